"""Retention: finished runs older than their tenant's ``run_retention_days`` (default 30; a
real, so a fraction of a day works too) are deleted in small batches, each its own short
transaction, so no long lock is ever held and the tables stay bounded. A singleton loop
(leader-elected)."""

from __future__ import annotations

from app.core.loop import Loop, LoopConfig
from app.db.database import Database
from app.db.tenancy import ENGINE
from app.engine import queries


class Retention(Loop):
    name = "retention"

    def __init__(self, db: Database, batch: int = 500, config: LoopConfig | None = None) -> None:
        super().__init__(config or LoopConfig(interval=60.0))
        self.db = db
        self.batch_size = batch

    async def run_once(self) -> int:
        async with self.db.raw(ENGINE) as conn:
            rows = await conn.fetch(queries.get("expired_runs"), self.batch_size)
            if not rows:
                return 0
            tenants, runs = [r["tenant_id"] for r in rows], [r["id"] for r in rows]
            await conn.execute(queries.get("delete_run_logs"), tenants, runs)
            await conn.execute(queries.get("delete_runs"), tenants, runs)
        return len(rows)

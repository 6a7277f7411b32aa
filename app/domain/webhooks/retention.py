"""The deliveries janitor: prunes webhook deliveries past their retention.

The deliveries log doubles as replay protection, so the retention bounds how long a delivery
id is remembered: keep it well above every verifier's timestamp tolerance (5 minutes). Safe in
every replica (``SKIP LOCKED`` batches).
"""

from __future__ import annotations

import datetime as dt

from app.core.loop import Loop, LoopConfig
from app.db.database import Database
from app.db.tenancy import ENGINE
from app.domain.webhooks.receiver import sql

RETENTION = dt.timedelta(days=7)


class DeliveryJanitor(Loop):
    name = "webhook-delivery-janitor"

    def __init__(self, db: Database, config: LoopConfig | None = None,
                 retention: dt.timedelta = RETENTION, batch_size: int = 5000) -> None:
        super().__init__(config or LoopConfig(interval=60.0))
        self.db = db
        self.retention = retention
        self.batch_size = batch_size

    async def run_once(self) -> int:
        """Delete one batch of deliveries older than the retention; return how many."""
        async with self.db.raw(ENGINE) as conn:
            status = await conn.execute(sql("prune_deliveries"),
                                        self.retention.total_seconds(), self.batch_size)
        return int(status.split()[-1])

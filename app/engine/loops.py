"""Engine loops: the sweeper that takes back expired leases, fails tasks past their execution
timeout, queues due retries and marks silent workers lost (safe in every replica); the analyzer
that keeps the hot tables' planner statistics fresh (leader only)."""

from __future__ import annotations

import time

import structlog

from app.core.loop import Loop, LoopConfig
from app.db.database import Database
from app.db.tenancy import ENGINE
from app.engine import queries
from app.engine.durable import waits
from app.engine.queue import sweeps
from app.engine.runtime import Engine

log = structlog.get_logger("kiln.sweeper")


class Sweeper(Loop):
    """Runs the sweeps; lease expiry waits out a grace period after the sweeper (re)gains the
    database.

    While no server could be reached (the whole fleet restarting, Postgres down), live workers
    could not heartbeat, so when sweeping resumes their leases all look expired at once. The
    grace — two lease durations by default — gives every live worker the chance to heartbeat
    (extending its leases, which the heartbeat does whether or not they ran out) before any
    lease is taken back. It starts at this sweeper's first pass and again after any failed pass.
    The other sweeps do not wait: a passed execution deadline or retry time is not a sign of
    life the outage hid. docs/state_machine.md, "Lease grace".
    """

    name = "sweeper"

    def __init__(self, engine: Engine, config: LoopConfig | None = None, *,
                 lease_grace: float | None = None) -> None:
        super().__init__(config or LoopConfig(interval=0.5))
        self.engine = engine
        self.batch_size = engine.config.sweep_batch
        # Two leases: the grace starts at the first pass, which may come before the API answers
        # (the server is still starting), and a worker then needs up to a third of a lease.
        self.lease_grace = 2 * engine.config.lease_seconds if lease_grace is None else lease_grace
        self._sweeping_since: float | None = None  # monotonic; None: not since the last failure

    @property
    def in_lease_grace(self) -> bool:
        since = self._sweeping_since
        return since is None or time.monotonic() - since < self.lease_grace

    async def run_once(self) -> int:
        if self._sweeping_since is None:
            self._sweeping_since = time.monotonic()
            log.info("lease grace: no lease is taken back until workers could heartbeat",
                     action="sweeper.lease_grace", seconds=self.lease_grace)
        try:
            return await self._sweep(expire_leases=not self.in_lease_grace)
        except Exception:
            self._sweeping_since = None  # the database may have been out of reach: grace again
            raise

    async def _sweep(self, *, expire_leases: bool) -> int:
        """Ask first which sweeps have due work (one statement, an idle pass's only one), then
        run just those."""
        engine, handled = self.engine, 0
        async with engine.db.raw(ENGINE) as conn:
            due = await conn.fetchrow(queries.get("due_sweeps"), engine.config.worker_lost_after)
            if expire_leases and due["leases"]:
                handled = await sweeps.expire_leases(engine.specs, conn, engine.config,
                                                     engine.events)
                if handled:
                    log.info("expired leases taken back", action="lease.expired", count=handled)
            if due["deadlines"]:
                handled = max(handled, await sweeps.expire_deadlines(
                    engine.specs, conn, engine.config, engine.events))
            if due["schedules"]:
                handled = max(handled, await sweeps.expire_schedules(
                    engine.specs, conn, engine.config, engine.events))
            if due["retries"]:
                handled = max(handled, await sweeps.queue_due_retries(conn, engine.config))
            if due["waits"]:
                handled = max(handled, await waits.sweep(engine.specs, conn,
                                                         engine.config.sweep_batch))
            if due["workers"]:
                await sweeps.lose_silent_workers(conn, engine.config, engine.events)
        return handled


class Analyzer(Loop):
    """ANALYZE a hot engine table once it changed by ``min_changes`` rows and ``fraction`` of
    its size since its last ANALYZE. Autovacuum does the same, but it naps a minute between
    rounds: a table that went from empty to 100,000 rows in that minute is planned as empty,
    and plans whose cost grows with a tenant's rows are picked (ops/bench/profile.md §1).
    A singleton loop: one ANALYZE per table is enough for every replica."""

    name = "analyzer"

    def __init__(self, db: Database, min_changes: int = 5000, fraction: float = 0.2,
                 config: LoopConfig | None = None) -> None:
        super().__init__(config or LoopConfig(interval=5.0))
        self.db = db
        self.min_changes = min_changes
        self.fraction = fraction

    async def run_once(self) -> int:
        """Return how many tables were analyzed (never "a full batch": no immediate rerun)."""
        async with self.db.raw(ENGINE) as conn:
            analyzed: list[str] = await conn.fetchval(
                queries.get("analyze_stale"), self.min_changes, self.fraction)
        return len(analyzed)

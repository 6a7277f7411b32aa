"""Engine loops: the sweeper that takes back expired leases, fails tasks past their execution
timeout, queues due retries and marks silent workers lost (safe in every replica); the analyzer
that keeps the hot tables' planner statistics fresh (leader only)."""

from __future__ import annotations

import time

import asyncpg
import structlog

from app.core.loop import Loop, LoopConfig
from app.db.database import Database
from app.db.tenancy import ENGINE
from app.engine import queries
from app.engine.dispatcher import CHANNEL, SWEEPS_CHANNEL, Dispatcher
from app.engine.durable import waits
from app.engine.queue import sweeps
from app.engine.runtime import Engine

log = structlog.get_logger("kiln.sweeper")

IDLE_INTERVAL = 5.0
"""The longest sleep of a quiet sweeper (no task running, none queued): the backstop should a
wake-up be missed. At most :data:`app.engine.dispatcher.SWEEPS_HORIZON`."""
MIN_SLEEP = 0.01
"""The shortest sleep until a due time: the clocks of Python and Postgres are not the same."""
ANALYZE_INTERVAL = 5.0
"""Seconds between the analyzer's passes while the hot tables change, and the least between any
two of its passes (a stream of ``kiln_queue`` does not make it pass more often)."""
ANALYZE_IDLE_INTERVAL = 60.0
"""The longest sleep of an analyzer whose tables are quiet: the backstop for a missed
``kiln_queue`` and for changes made without queueing (retention's deletes)."""


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

    When to look again (docs/architecture.md, "Sweeper"): each pass reads the first due time
    of every sweep (``due_sweeps``, one index-only statement) and sleeps until the soonest, but
    at most ``interval`` while the engine is *busy* — a task running or queued, whose claim,
    failure or release may set a sooner due time (an execution deadline, a retry backoff)
    without waking the sweeper, exactly as often as before — and at most ``idle_interval`` while
    *quiet*. A quiet engine becomes busy only by queueing work, and every transaction that queues
    sends ``kiln_queue``; a writer of a sooner due time without a queue row (a DAG task's sleep
    condition, e.g. at a replay) sends ``kiln_sweeps``. Both reach every replica's dispatcher,
    which nudges its sweeper (:meth:`nudge`), so a quiet sweeper is never later than a polling
    one.
    """

    name = "sweeper"

    def __init__(self, engine: Engine, config: LoopConfig | None = None, *,
                 lease_grace: float | None = None) -> None:
        super().__init__(config or LoopConfig(interval=0.5, idle_interval=IDLE_INTERVAL))
        self.engine = engine
        self.batch_size = engine.config.sweep_batch
        # Two leases: the grace starts at the first pass, which may come before the API answers
        # (the server is still starting), and a worker then needs up to a third of a lease.
        self.lease_grace = 2 * engine.config.lease_seconds if lease_grace is None else lease_grace
        self._sweeping_since: float | None = None  # monotonic; None: not since the last failure
        self._due: asyncpg.Record | None = None  # the last due_sweeps read
        self._nudges = 0  # kiln_queue / kiln_sweeps wake-ups received
        self._nudges_at_read = 0  # ... when the last due_sweeps read began
        self._read_at = 0.0  # monotonic time of that read

    def start(self) -> None:
        wakers = self.engine.dispatcher.wakers
        for channel in (CHANNEL, SWEEPS_CHANNEL):
            if self.nudge not in wakers[channel]:
                wakers[channel].append(self.nudge)
        super().start()

    async def stop(self) -> None:
        wakers = self.engine.dispatcher.wakers
        for channel in (CHANNEL, SWEEPS_CHANNEL):
            if self.nudge in wakers[channel]:
                wakers[channel].remove(self.nudge)
        await super().stop()

    @property
    def busy(self) -> bool:
        """As of the last pass: a task was running or queued (or nothing was read yet)."""
        return self._due is None or bool(self._due["busy"])

    def nudge(self) -> None:
        """Work was queued, or a timer set (``kiln_queue``, ``kiln_sweeps``): a quiet sweeper
        looks at once; a busy one looks within its interval anyway, so a stream of queueing
        does not turn into a stream of passes."""
        self._nudges += 1
        if not self.busy:
            super().nudge()

    def idle_delay(self) -> float:
        """Until the first due time of the last read, capped by ``interval`` when busy and
        ``idle_interval`` when quiet; at once when quiet and nudged since the read began (the
        read may have missed what the nudge announced)."""
        if self._due is None:
            return self.config.interval
        busy = bool(self._due["busy"])
        if not busy and self._nudges != self._nudges_at_read:
            return 0.0
        cap = self.config.interval if busy else (self.config.idle_interval or self.config.interval)
        cap = min(cap, self.engine.config.worker_lost_after)
        due: list[float] = [v for k, v in self._due.items() if k != "busy" and v is not None]
        if not due:
            return cap
        soonest = min(due)
        if soonest <= 0:  # due but not taken (lease grace, rows locked by another replica)
            return min(cap, self.config.interval)
        left = soonest - (time.monotonic() - self._read_at)
        return min(cap, max(MIN_SLEEP, left))

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
            self._nudges_at_read, self._read_at = self._nudges, time.monotonic()
            due = await conn.fetchrow(queries.get("due_sweeps"), engine.config.worker_lost_after)
            assert due is not None
            self._due = due

            def is_due(sweep: str) -> bool:
                return due[sweep] is not None and due[sweep] <= 0

            if expire_leases and is_due("leases"):
                handled = await sweeps.expire_leases(engine.specs, conn, engine.config,
                                                     engine.events)
                if handled:
                    log.info("expired leases taken back", action="lease.expired", count=handled)
            if is_due("deadlines"):
                handled = max(handled, await sweeps.expire_deadlines(
                    engine.specs, conn, engine.config, engine.events))
            if is_due("schedules"):
                handled = max(handled, await sweeps.expire_schedules(
                    engine.specs, conn, engine.config, engine.events))
            if is_due("retries"):
                handled = max(handled, await sweeps.queue_due_retries(conn, engine.config))
            if is_due("waits"):
                handled = max(handled, await waits.sweep(engine.specs, conn,
                                                         engine.config.sweep_batch))
            if is_due("workers"):
                await sweeps.lose_silent_workers(conn, engine.config, engine.events)
        return handled


class Analyzer(Loop):
    """ANALYZE a hot engine table once it changed by ``min_changes`` rows and ``fraction`` of
    its size since its last ANALYZE. Autovacuum does the same, but it naps a minute between
    rounds: a table that went from empty to 100,000 rows in that minute is planned as empty,
    and plans whose cost grows with a tenant's rows are picked (ops/bench/profile.md §1).
    A singleton loop: one ANALYZE per table is enough for every replica.

    When to look again (docs/architecture.md, "Analyzer"): each pass also reads how many rows
    the hot tables ever changed (``analyze_stale``'s ``changes``). While that number moves, or
    after ``kiln_queue`` (work was queued: tables are about to change, and the statistics of a
    change reach ``pg_stat_user_tables`` up to a second after its commit), the analyzer passes
    every ``interval`` as it always did; once a pass finds the number where the pass before left
    it, with no ``kiln_queue`` since that one began, the tables are *quiet* and it sleeps up to
    ``idle_interval``, until ``kiln_queue`` — every transaction that queues work sends it, and a
    quiet engine starts changing only by queueing — wakes it, never sooner than ``min_spacing``
    after its last pass began. (Retention's deletes, which do not queue, are noticed within
    ``idle_interval``; they make estimates too high, not too low, and autovacuum analyzes
    them too.)"""

    name = "analyzer"

    def __init__(self, db: Database, min_changes: int = 5000, fraction: float = 0.2,
                 config: LoopConfig | None = None, *, dispatcher: Dispatcher | None = None) -> None:
        super().__init__(config or LoopConfig(
            interval=ANALYZE_INTERVAL, idle_interval=ANALYZE_IDLE_INTERVAL,
            min_spacing=ANALYZE_INTERVAL))
        self.db = db
        self.min_changes = min_changes
        self.fraction = fraction
        self.dispatcher = dispatcher
        self._changes: int | None = None  # the hot tables' change count at the last pass
        self._quiet = False  # the last pass found that count unchanged, with no kiln_queue since
        self._nudges = 0  # kiln_queue wake-ups received
        self._nudges_at_pass = 0  # ... when the last pass began

    def start(self) -> None:
        if self.dispatcher is not None and self.nudge not in self.dispatcher.wakers[CHANNEL]:
            self.dispatcher.wakers[CHANNEL].append(self.nudge)
        super().start()

    async def stop(self) -> None:
        if self.dispatcher is not None and self.nudge in self.dispatcher.wakers[CHANNEL]:
            self.dispatcher.wakers[CHANNEL].remove(self.nudge)
        await super().stop()

    @property
    def quiet(self) -> bool:
        """As of the last pass: the hot tables had not changed since the pass before, and no
        work was queued since that one began."""
        return self._quiet

    def nudge(self) -> None:
        """Work was queued (``kiln_queue``): a quiet analyzer looks again (no sooner than
        ``min_spacing`` after its last pass); otherwise it looks within ``interval`` anyway."""
        self._nudges += 1
        super().nudge()

    def idle_delay(self) -> float:
        """Quiet tables: up to ``idle_interval`` (a nudge ends it); changing: ``interval``."""
        if self._quiet:
            return self.config.idle_interval or self.config.interval
        return self.config.interval

    async def run_once(self) -> int:
        """Return how many tables were analyzed (never "a full batch": no immediate rerun)."""
        nudges = self._nudges
        async with self.db.raw(ENGINE) as conn:
            row = await conn.fetchrow(
                queries.get("analyze_stale"), self.min_changes, self.fraction)
        assert row is not None
        analyzed: list[str] = row["analyzed"]
        changes: int | None = row["changes"]
        self._quiet = (self._changes is not None and changes == self._changes
                       and nudges == self._nudges_at_pass)
        self._changes, self._nudges_at_pass = changes, nudges
        return len(analyzed)

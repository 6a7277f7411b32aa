"""The engine of one server process: spec cache, wake-ups, and the queue operations the API
calls. Each operation is one short transaction on the raw pool, as the caller's tenant."""

from __future__ import annotations

import asyncio
import uuid
from typing import TYPE_CHECKING

import asyncpg
import structlog

from app.core.errors import NotFound
from app.db import urls
from app.db.database import Database
from app.db.tenancy import TenantContext
from app.engine.config import EngineConfig
from app.engine.dispatcher import Dispatcher
from app.engine.flow import claim as flow_claim
from app.engine.flow import rate_limits
from app.engine.queue import claim, control, results
from app.engine.queue import trigger as triggering
from app.engine.spec import SpecCache
from app.hooks import outbox_events

if TYPE_CHECKING:
    import pluggy

    from app.core.tracing import Tracing
    from app.domain.metrics.collector import Metrics

# Per-run and per-task lines are debug: at full speed they are thousands a second.
log = structlog.get_logger("kiln.engine")


DEADLOCK_RETRIES = 3
DEADLOCK_PAUSE = 0.05  # seconds, times the attempt


class Engine:
    def __init__(
        self, db: Database, config: EngineConfig,
        events: frozenset[str] = results.DEFAULT_EVENTS, listen_dsn: str | None = None,
    ) -> None:
        """``listen_dsn``: where the LISTEN connection goes (it needs a session of its own, so
        never through a transaction-mode pooler); default: the pools' database."""
        self.db = db
        self.config = config
        self.events = events
        self.specs = SpecCache()
        self.dispatcher = Dispatcher(listen_dsn or urls.asyncpg_dsn(db.login_url))
        self.stopping = False
        self.metrics: Metrics | None = None
        self.tracing: Tracing | None = None  # set when KILN_OTEL_ENABLED (app/core/tracing.py)
        self.rotation = flow_claim.Rotation()
        self.rate_strategies = rate_limits.Strategies(None)
        # Per worker whose next claim offers the flow lane first: (claims since the plain lane
        # was asked, whether it had work then). See _next_lane.
        self._flow_first: dict[uuid.UUID, tuple[int, bool]] = {}
        self._workers: dict[tuple[uuid.UUID, uuid.UUID], asyncpg.Record] = {}
        """Actions, slots and labels per (tenant, worker): fixed at registration (registering
        again makes a new worker), so a known worker's poll needs no statement of its own —
        the claim statement checks that it is not stopped and records its sign of life."""

    def use_plugins(self, pm: pluggy.PluginManager, hook_timeout: float = 5.0) -> None:
        """Take rate-limit strategies from ``pm`` (``register_rate_limit_strategies``); without
        an ``on_run_succeeded`` plugin, ``run.succeeded`` is written only for tenants with a
        channel subscribed to it (:data:`results.SUBSCRIBED_ONLY`)."""
        self.rate_strategies = rate_limits.Strategies(pm, hook_timeout)
        hooked = {event for event in results.SUBSCRIBED_ONLY
                  if outbox_events.implemented(pm, outbox_events.EVENT_HOOKS[event])}
        self.events = self.events - (results.SUBSCRIBED_ONLY - hooked)

    async def start(self) -> None:
        self.dispatcher.start()

    async def stop(self) -> None:
        self.stopping = True
        await self.dispatcher.stop()

    async def trigger(
        self, tenant_id: uuid.UUID, workflow: str, requests: list[triggering.RunRequest]
    ) -> list[triggering.Triggered]:
        async with self.db.raw(TenantContext(tenant_id)) as conn:
            triggered = await triggering.trigger(self.specs, conn, tenant_id, workflow, requests)
            if self.tracing is not None:
                await self.tracing.remember_runs(
                    conn, tenant_id, [t.run_id for t in triggered if t.created])
        for run in triggered:
            log.debug("run triggered", action="run.triggered", run_id=str(run.run_id),
                      workflow=workflow, created=run.created)
        if self.metrics is not None:
            self.metrics.runs_triggered.inc(sum(1 for t in triggered if t.created))
        return triggered

    async def poll(
        self, tenant_id: uuid.UUID, worker_id: uuid.UUID, max_tasks: int, wait: float,
        gone: asyncio.Event | None = None,
    ) -> list[claim.Assignment]:
        """Claim up to ``max_tasks``; if none are ready, park up to ``wait`` seconds (holding no
        connection) and claim again whenever work is queued for this tenant.

        ``gone`` is set when the client went away (its connection closed): a parked poll then
        returns without claiming, so a killed worker's poll cannot lease a task to nobody.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + min(wait, self.config.max_poll_wait)
        flow: flow_claim.FlowContext | None = None
        first_pass = True
        with self.dispatcher.waiter(tenant_id) as woken:
            while True:
                woken.clear()
                if gone is not None and gone.is_set():
                    return []
                async with self.db.raw(TenantContext(tenant_id)) as conn:
                    # Checked on every pass: a worker stopped while its poll was parked must not
                    # be handed tasks it will never run. The plain claim checks it itself; the
                    # flow lane, when it goes first, does not.
                    flow_first = worker_id in self._flow_first
                    worker = self._workers.get((tenant_id, worker_id))
                    if worker is None or flow_first:
                        worker = await claim.touch_worker(conn, tenant_id, worker_id)
                        if worker is None and flow is not None:
                            return []
                        if worker is None:
                            self._workers.pop((tenant_id, worker_id), None)
                            raise NotFound(f"worker {worker_id} is not registered (or stopped)")
                        self._remember_worker(tenant_id, worker_id, worker)
                    if flow is None:
                        actions, limit = list(worker["actions"]), min(max_tasks, worker["slots"])
                        flow = flow_claim.FlowContext(
                            worker_id, dict(worker["labels"] or {}), self.rotation,
                            self.rate_strategies, self.config.preference_delay, self.events)
                    claimed = await claim.claim(
                        self.specs, conn, tenant_id, worker_id, actions, limit,
                        self.config.lease_seconds, flow, flow_first,
                    )
                if claimed.worker_gone:
                    self._workers.pop((tenant_id, worker_id), None)
                    if first_pass:
                        raise NotFound(f"worker {worker_id} is not registered (or stopped)")
                    return claimed.tasks
                first_pass = False
                self._next_lane(worker_id, flow_first, claimed)
                tasks = claimed.tasks
                remaining = deadline - loop.time()
                if tasks and self.metrics is not None:
                    self.metrics.tasks_claimed.inc(len(tasks))
                for task in tasks:
                    log.debug("task claimed", action="task.claimed", run_id=str(task.run_id),
                              task_id=str(task.task_run_id), task=task.task,
                              attempt=task.attempt, worker_id=str(worker_id))
                if tasks or self.stopping or remaining <= 0:
                    return tasks
                # Held back by a rate limit or a label preference: claim again when it may pass
                # (no notification announces that), else when work is queued or a slot frees.
                timeout = remaining if claimed.retry_in is None else min(
                    remaining, max(claimed.retry_in, 0.02))
                try:
                    await asyncio.wait_for(_first_of(woken, gone), timeout=timeout)
                except TimeoutError:
                    if claimed.retry_in is None or loop.time() >= deadline:
                        return []

    def _remember_worker(
        self, tenant_id: uuid.UUID, worker_id: uuid.UUID, worker: asyncpg.Record
    ) -> None:
        if len(self._workers) > 100_000:
            self._workers.clear()
        self._workers[(tenant_id, worker_id)] = worker

    PLAIN_RECHECK = 4
    """While the flow lane fills every claim, the plain lane is still asked every this many."""

    def _next_lane(self, worker_id: uuid.UUID, flow_first: bool, claimed: claim.Claimed) -> None:
        """Pick which lane goes first in the worker's next claim: while both lanes have work
        they take turns; while only flow-controlled tasks wait, the flow lane goes first (and
        the plain lane is asked again every ``PLAIN_RECHECK`` claims)."""
        state = self._flow_first.pop(worker_id, (0, False))
        if not claimed.flow_waiting:
            return
        if claimed.plain is None:  # the flow lane went first and filled the claim
            skipped, plain_busy = state[0] + 1, state[1]
            if plain_busy or skipped >= self.PLAIN_RECHECK:
                return  # the plain lane goes first next time
            next_state = (skipped, False)
        elif claimed.plain and flow_first:
            return  # both lanes have work and the flow lane went first: the plain lane next
        else:  # the plain lane went first, or had nothing: the flow lane next
            next_state = (0, bool(claimed.plain))
        if len(self._flow_first) > 100_000:
            self._flow_first.clear()
        self._flow_first[worker_id] = next_state

    async def heartbeat(
        self, tenant_id: uuid.UUID, worker_id: uuid.UUID, held: list[tuple[uuid.UUID, uuid.UUID]]
    ) -> set[uuid.UUID]:
        async with self.db.raw(TenantContext(tenant_id)) as conn:
            if await claim.touch_worker(conn, tenant_id, worker_id) is None:
                raise NotFound(f"worker {worker_id} is not registered (or stopped)")
            return await claim.extend_leases(
                conn, tenant_id, worker_id, held, self.config.lease_seconds
            )

    async def complete(
        self, tenant_id: uuid.UUID, worker_id: uuid.UUID, batch: list[results.Result]
    ) -> tuple[list[uuid.UUID], list[uuid.UUID]]:
        for attempt in range(1, DEADLOCK_RETRIES + 1):
            try:
                async with self.db.raw(TenantContext(tenant_id)) as conn:
                    accepted, rejected = await results.complete(
                        self.specs, conn, tenant_id, worker_id, batch, self.events
                    )
                break
            except asyncpg.DeadlockDetectedError:
                # A worker sends two results batches at once (the SDK's results sender); their
                # statements lock rows in index order, but should two of them ever lock a run
                # or a child in opposite orders, Postgres aborts one: it changed nothing, so
                # applying it again is safe.
                if attempt == DEADLOCK_RETRIES:
                    raise
                log.warning("results batch deadlocked; applying it again",
                            action="results.deadlock", attempt=attempt)
                # A pause first: the other transaction, woken by the abort, takes its rows
                # before this one asks for them again (at once, it could rebuild the cycle).
                await asyncio.sleep(DEADLOCK_PAUSE * attempt)
        outcome = {r.task_run_id: r.outcome for r in batch}
        if self.tracing is not None:
            await self.tracing.record_results(
                self.db, tenant_id, [(task_id, outcome[task_id]) for task_id in accepted])
        for task_id in accepted:
            log.debug("task result accepted", action="task.result", task_id=str(task_id),
                      outcome=outcome[task_id], worker_id=str(worker_id))
        for task_id in rejected:
            log.debug("task result rejected: the lease is no longer current",
                      action="task.result_rejected", task_id=str(task_id),
                      worker_id=str(worker_id))
        if self.metrics is not None:
            for task_id in accepted:
                self.metrics.results.labels(outcome[task_id]).inc()
            self.metrics.results.labels("rejected").inc(len(rejected))
        return accepted, rejected

    async def log(self, tenant_id: uuid.UUID, lines: list[claim.LogLine]) -> None:
        async with self.db.raw(TenantContext(tenant_id)) as conn:
            await claim.insert_logs(conn, tenant_id, lines)

    async def cancel(self, tenant_id: uuid.UUID, run_ids: list[uuid.UUID]) -> set[uuid.UUID]:
        async with self.db.raw(TenantContext(tenant_id)) as conn:
            cancelled = await control.cancel(self.specs, conn, tenant_id, run_ids, self.events)
            if cancelled:  # flow-controlled tasks wait in flow_queue, which control leaves alone
                await flow_claim.dequeue_runs(conn, tenant_id, list(cancelled))
            return cancelled

    async def replay(self, tenant_id: uuid.UUID, run_id: uuid.UUID, from_task: str | None) -> None:
        async with self.db.raw(TenantContext(tenant_id)) as conn:
            await control.replay(self.specs, conn, tenant_id, run_id, from_task)

    async def refresh_timeout(
        self, tenant_id: uuid.UUID, task_run_id: uuid.UUID, lease_id: uuid.UUID, seconds: float
    ) -> bool:
        async with self.db.raw(TenantContext(tenant_id)) as conn:
            return await claim.refresh_deadline(conn, tenant_id, task_run_id, lease_id, seconds)

    async def spawn(
        self, tenant_id: uuid.UUID, task_run_id: uuid.UUID, lease_id: uuid.UUID, workflow: str,
        children: list[triggering.ChildRequest],
    ) -> list[triggering.Triggered]:
        async with self.db.raw(TenantContext(tenant_id)) as conn:
            return await triggering.spawn(
                self.specs, conn, tenant_id, task_run_id, lease_id, workflow, children
            )


async def _first_of(event: asyncio.Event, other: asyncio.Event | None) -> None:
    """Wait until ``event`` or ``other`` (if any) is set."""
    if other is None:
        await event.wait()
        return
    waiters = [asyncio.ensure_future(event.wait()), asyncio.ensure_future(other.wait())]
    try:
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()

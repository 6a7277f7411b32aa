"""The worker: register, long-poll, run tasks within ``slots``, report, shut down gracefully."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import datetime as dt
import logging
import math
import signal
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from kiln import _log, durations, errors, protocol, workflow
from kiln.worker import batching, claim_ahead, heartbeat, pool, runtime
from kiln.worker.execution import Execution

if TYPE_CHECKING:
    from kiln.client import Kiln
    from kiln.standalone import Standalone

RESULT_BATCH, RESULT_LINGER = 500, 0.005
RESULT_SENDS = 2  # results requests in flight: one is applied while the next batch gathers
LOG_BATCH, LOG_LINGER = 500, 0.2
MAX_LOG_MESSAGE = 10_000
_POLL_RETRY_MAX = 30.0
MAX_SLOTS = 10_000  # the server's limits
MAX_POLL_TASKS = 1000
MAX_POLLS_IN_FLIGHT = 2  # while there is a backlog and claim-ahead: see _poll_size


class Worker:
    """Runs the tasks of some workflows. Make one with ``kiln.worker(...)``.

    ``start()`` blocks and handles SIGINT/SIGTERM; ``await astart()`` runs on the caller's loop
    until ``stop()``. On stop it polls no more, releases tasks it claimed but did not start, gives
    running tasks ``drain_timeout`` to finish, then unregisters. Tasks still running then are
    handed back (``released``): the server queues them again at once for another worker.
    """

    def __init__(
        self, client: Kiln, name: str,
        workflows: Sequence[workflow.Workflow | Standalone[Any, Any]], *, slots: int = 10,
        labels: Mapping[str, str | int | float | bool] | None = None,
        drain_timeout: durations.Duration = 20, poll_wait: durations.Duration | None = None,
    ) -> None:
        if not isinstance(name, str) or not 1 <= len(name) <= 100:
            raise ValueError(f"worker name {name!r} is invalid: use 1-100 characters")
        self.name = name
        if isinstance(slots, bool) or not isinstance(slots, int) or not 1 <= slots <= MAX_SLOTS:
            raise ValueError(f"worker {name!r}: slots must be an int from 1 to {MAX_SLOTS}, "
                             f"got {slots!r}")
        self.slots = slots
        self.labels = _check_labels(name, labels or {})
        self.drain_timeout = durations.parse(drain_timeout)
        self._poll_wait = None if poll_wait is None else durations.parse(poll_wait)
        self.workflows = _collect(name, workflows)
        self.tasks = {task.action: task for wf in self.workflows for task in wf.all_tasks}
        self._client = client
        self.id: str | None = None
        self._registration: protocol.Registration | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_requested = False
        self._stop = asyncio.Event()
        self._force = asyncio.Event()
        self._slot_freed = asyncio.Event()
        self._running: dict[str, Execution] = {}
        self._ready: collections.deque[protocol.Assignment] = collections.deque()
        """Claimed ahead of a free slot (leases heartbeated): started as slots free."""
        self._asked = 0  # tasks asked for by the polls in flight
        self._ahead = claim_ahead.ClaimAhead(slots)
        self._backlog = False  # the last poll came back full: more work is likely queued
        self._threads: pool.DaemonThreadPool | None = None
        self._leases = heartbeat.LeaseTable()
        self._fatal: BaseException | None = None
        self._results = batching.Batcher[protocol.Result](
            "results", self._send_results, max_items=RESULT_BATCH, linger=RESULT_LINGER,
            concurrency=RESULT_SENDS, linger_while=lambda: bool(self._running),
            on_sent=self._slot_freed.set)
        self._logs = batching.Batcher[protocol.LogLine](
            "logs", self._send_logs, max_items=LOG_BATCH, linger=LOG_LINGER)

    def start(self) -> None:
        """Run until SIGINT or SIGTERM (a second signal skips the wait for running tasks)."""
        asyncio.run(self.astart(handle_signals=True))

    async def astart(self, *, handle_signals: bool = False) -> None:
        """Run on the current event loop until ``stop()`` (or a signal, if ``handle_signals``).

        Raises ``AuthenticationError``/``PermissionDeniedError`` for a bad key,
        ``ServerUnavailableError`` if the server cannot be reached at start.
        """
        if self._loop is not None:
            raise RuntimeError(f"worker {self.name!r} was already started; a Worker runs once, "
                               "make a new one with kiln.worker(...)")
        self._loop = asyncio.get_running_loop()
        if self._stop_requested:
            self._stop.set()
        installed = self._install_signals() if handle_signals else []
        try:
            await self._register()
            await self._serve()
        finally:
            for sig in installed:
                self._loop.remove_signal_handler(sig)
            await self._client.transport.aclose()
        if self._fatal is not None:
            raise self._fatal

    def stop(self) -> None:
        """Ask the worker to shut down gracefully; safe from any thread, before or while it runs."""
        self._stop_requested = True
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        try:
            on_loop = asyncio.get_running_loop() is loop
        except RuntimeError:
            on_loop = False
        if on_loop:
            self._request_stop(None)  # at once: a poll reply being handled must see it
        else:
            loop.call_soon_threadsafe(self._request_stop, None)

    def _request_stop(self, sig: signal.Signals | None) -> None:
        if self._stop.is_set():
            if sig is not None:
                _log.event(logging.WARNING, "worker_stop_forced", signal=sig.name)
                self._force.set()
            return
        _log.event(logging.INFO, "worker_stopping", worker=self.name, signal=sig and sig.name,
                   running=len(self._running), drain_timeout=self.drain_timeout)
        self._stop.set()

    def _install_signals(self) -> list[signal.Signals]:
        assert self._loop is not None
        installed = []
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                self._loop.add_signal_handler(sig, self._request_stop, sig)
                installed.append(sig)
            except (NotImplementedError, RuntimeError, ValueError):
                pass  # not the main thread, or no signal support: stop() still works
        return installed

    async def _register(self) -> None:
        for wf in self.workflows:
            reply = await protocol.register_workflow(self._client.transport, wf.definition())
            _log.event(logging.INFO, "workflow_registered", workflow=wf.name,
                       version=reply.get("version"), created=reply.get("created"))
        await self._register_worker()

    async def _register_worker(self) -> None:
        reply = await protocol.register_worker(self._client.transport, self.name,
                                               list(self.tasks), self.slots, self.labels)
        self._registration, self.id = reply, str(reply["id"])
        _log.event(logging.INFO, "worker_registered", worker=self.name, worker_id=self.id,
                   slots=self.slots, actions=len(self.tasks), url=self._client.api_url)

    @property
    def _wait(self) -> float:
        assert self._registration is not None
        limit = float(self._registration["max_poll_wait"])
        return limit if self._poll_wait is None else min(limit, self._poll_wait)

    async def _serve(self) -> None:
        assert self._registration is not None
        threads = self._threads = pool.DaemonThreadPool(self.slots)
        beats = heartbeat.Heartbeater(
            self._client.transport, self._worker_id,
            float(self._registration["heartbeat_interval"]), self._leases,
            on_cancel=lambda ids: self._threadsafe(self._cancel, ids),
            on_fatal=lambda exc: self._threadsafe(self._fail, exc))
        await asyncio.to_thread(beats.start)
        senders = [asyncio.create_task(self._results.run()), asyncio.create_task(self._logs.run())]
        pollers = [asyncio.create_task(self._poll_loop(lane))
                   for lane in range(MAX_POLLS_IN_FLIGHT)]
        stop_wait = asyncio.create_task(self._stop.wait())
        try:
            await asyncio.wait([*pollers, stop_wait], return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in (*pollers, stop_wait):
                waiter.cancel()
            await asyncio.gather(*pollers, stop_wait, return_exceptions=True)
            for poller in pollers:
                if not poller.cancelled() and poller.exception() is not None:
                    self._fatal = self._fatal or poller.exception()
            await self._drain()
            self._results.close()
            self._logs.close()
            await asyncio.gather(*senders, return_exceptions=True)
            await asyncio.to_thread(beats.stop)
            await self._unregister()
            threads.shutdown(wait=False, cancel_futures=True)

    def _worker_id(self) -> str:
        assert self.id is not None
        return self.id

    def _threadsafe(self, callback: Any, arg: Any) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(callback, arg)

    def _fail(self, exc: BaseException) -> None:
        self._fatal = self._fatal or exc
        self._stop.set()

    def _poll_size(self, lane: int) -> int:
        """How many tasks poller ``lane`` asks for now (0: it waits).

        The worker holds up to ``slots`` plus its claim-ahead (:mod:`kiln.worker.claim_ahead`)
        tasks: running, waiting for a slot, or asked for by a poll in flight. While polls come
        back full and there is claim-ahead, two polls share that window, each asking for half,
        so one is on its way while the tasks of the other run; otherwise one poll asks for all
        that is free (and may wait at the server for work).
        """
        # Results the server has not accepted yet count against the slots beyond two slots'
        # worth: claiming runs ahead of reporting only that far, so a slow results path
        # cannot pile up finished tasks whose leases nobody extends, and a DAG's children
        # (released by those results) are not overtaken by ever more roots.
        unreported = max(0, self._results.outstanding() - 2 * self.slots)
        window = self.slots + self._ahead.tasks()
        free = window - len(self._running) - len(self._ready) - self._asked - unreported
        most = min(MAX_POLL_TASKS, self.slots)  # the server leases at most slots per poll
        if not (self._backlog and window > self.slots):
            return min(free, most) if lane == 0 else 0
        share = min(most, math.ceil(window / MAX_POLLS_IN_FLIGHT))
        # A poll for a few tasks costs nearly as much as one for many: wait for half a share.
        return min(free, share) if free >= max(1, share // 2) else 0

    async def _poll_loop(self, lane: int) -> None:
        delay = 0.0
        loop = asyncio.get_running_loop()
        while not self._stop.is_set():
            ask = self._poll_size(lane)
            if ask <= 0:
                self._slot_freed.clear()
                await self._slot_freed.wait()
                continue
            # Only the first poller waits at the server for work; the second is for a backlog.
            wait = self._wait if lane == 0 else 0.0
            self._asked += ask
            sent = loop.time()
            try:
                assignments = await protocol.poll(self._client.transport, self._worker_id(),
                                                  ask, wait)
            except errors.NotFoundError:
                _log.event(logging.WARNING, "worker_unknown", worker_id=self.id)
                if lane == 0:
                    await self._register_worker()
                else:
                    self._backlog = False
                continue
            except (errors.ServerUnavailableError, errors.ApiError) as exc:
                if isinstance(exc, errors.ApiError) and exc.status < 500:
                    raise
                self._backlog = False
                delay = min(_POLL_RETRY_MAX, max(1.0, delay * 2))
                _log.event(logging.WARNING, "poll_failed", retry_in=delay, error=exc)
                await _wait_or(self._stop, delay)
                continue
            finally:
                self._asked -= ask
            delay = 0.0
            self._ahead.poll_returned(loop.time() - sent, ask, len(assignments))
            self._backlog = len(assignments) >= ask
            for assignment in assignments:
                self._leases.add(assignment["task_run_id"], assignment["lease_id"])
                self._ready.append(assignment)
            self._fill_slots()
            self._slot_freed.set()  # the other poller re-checks: the backlog may have changed

    def _fill_slots(self) -> None:
        """Start tasks waiting for a slot while slots are free."""
        while self._ready and len(self._running) < self.slots:
            self._begin(self._ready.popleft())

    def _begin(self, assignment: protocol.Assignment) -> None:
        task = self.tasks.get(assignment["action"])
        if self._stop.is_set() or task is None:
            # Claimed but not started: hand it straight back to the queue.
            if task is None:
                _log.event(logging.ERROR, "unknown_action", action_name=assignment["action"])
            self._release(assignment["task_run_id"], assignment["lease_id"])
            return
        lease: protocol.Lease = {"task_run_id": assignment["task_run_id"],
                                 "lease_id": assignment["lease_id"]}
        execution = Execution(task, assignment, self._log_sink(assignment),
                              runtime.WorkerRuntime(self._client, self._worker_id, lease))
        self._running[execution.task_run_id] = execution
        execution.runner = asyncio.create_task(self._execute(execution))

    def _release(self, task_run_id: str, lease_id: str) -> None:
        """Hand a task back to the queue (the server queues it again at once)."""
        self._leases.remove(task_run_id)
        self._results.add({"task_run_id": task_run_id, "lease_id": lease_id,
                           "status": "released"})

    async def _execute(self, execution: Execution) -> None:
        assert self._threads is not None
        _log.event(logging.DEBUG, "task_started", action_name=execution.task.action,
                   task_run_id=execution.task_run_id, attempt=execution.ctx.attempt)
        loop = asyncio.get_running_loop()
        started = loop.time()
        try:
            result = await execution.run(self._threads)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a bug in the SDK must not take the worker down with it
            _log.event(logging.ERROR, "execution_crashed", error=repr(exc))
            result = None
        finally:
            self._running.pop(execution.task_run_id, None)
            self._leases.remove(execution.task_run_id)
            self._ahead.task_ran(loop.time() - started)
            self._fill_slots()
            self._slot_freed.set()
        if result is not None:
            self._results.add(result)

    def _cancel(self, task_run_ids: list[str]) -> None:
        cancelled = set(task_run_ids)
        waiting = [a for a in self._ready if a["task_run_id"] in cancelled]
        for assignment in waiting:  # not started: just forget it (the server already has)
            self._ready.remove(assignment)
            self._leases.remove(assignment["task_run_id"])
        if waiting:
            self._slot_freed.set()  # room in the claim-ahead window
        for task_run_id in task_run_ids:
            execution = self._running.get(task_run_id)
            if execution is not None and not execution.cancel_requested:
                _log.event(logging.INFO, "task_cancelled", action_name=execution.task.action,
                           task_run_id=task_run_id)
                self._leases.remove(task_run_id)
                execution.cancel()

    async def _drain(self) -> None:
        while self._ready:  # claimed ahead, never started
            assignment = self._ready.popleft()
            self._release(assignment["task_run_id"], assignment["lease_id"])
        runners = {e.runner for e in self._running.values() if e.runner is not None}
        if runners:
            _log.event(logging.INFO, "worker_draining", running=len(runners),
                       timeout=self.drain_timeout)
            force = asyncio.create_task(self._force.wait())
            deadline = asyncio.get_running_loop().time() + self.drain_timeout
            while runners and not self._force.is_set():
                remaining = deadline - asyncio.get_running_loop().time()
                if remaining <= 0:
                    break
                done, _ = await asyncio.wait([*runners, force], timeout=remaining,
                                             return_when=asyncio.FIRST_COMPLETED)
                runners -= done
            force.cancel()
        for execution in list(self._running.values()):
            # Past the deadline: hand the task back so another worker starts it at once (a
            # graceful stop is not a lost lease). Its runner is cancelled and reports nothing.
            _log.event(logging.WARNING, "task_abandoned", action_name=execution.task.action,
                       task_run_id=execution.task_run_id)
            if execution.runner is not None:
                execution.runner.cancel()
            self._release(execution.task_run_id, execution.lease_id)

    async def _unregister(self) -> None:
        if self.id is None:
            return
        try:
            await protocol.delete_worker(self._client.transport, self.id)
        except errors.KilnError as exc:
            _log.event(logging.WARNING, "worker_unregister_failed", error=exc)
        _log.event(logging.INFO, "worker_stopped", worker=self.name, worker_id=self.id)

    def _log_sink(self, assignment: protocol.Assignment) -> Any:
        def sink(level: str, message: str) -> None:
            if len(message) > MAX_LOG_MESSAGE:  # the server refuses longer lines
                message = message[:MAX_LOG_MESSAGE - 15] + " … (truncated)"
            self._logs.add({"task_run_id": assignment["task_run_id"],
                            "lease_id": assignment["lease_id"], "level": level,
                            "message": message, "at": dt.datetime.now(dt.UTC).isoformat()})
        return sink

    async def _send_results(self, batch: list[protocol.Result]) -> None:
        reply = await protocol.post_results(self._client.transport, self._worker_id(), batch)
        for task_run_id in reply.get("rejected", []):
            _log.event(logging.WARNING, "result_rejected", task_run_id=task_run_id,
                       reason="lease no longer current")

    async def _send_logs(self, batch: list[protocol.LogLine]) -> None:
        await protocol.post_logs(self._client.transport, self._worker_id(), batch)


async def _wait_or(event: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(event.wait(), seconds)


def _collect(name: str, items: Sequence[Any]) -> list[workflow.Workflow]:
    found: dict[str, workflow.Workflow] = {}
    for item in items:
        wf = item.workflow if isinstance(item, workflow.Task) else item
        if not isinstance(wf, workflow.Workflow):
            raise TypeError(f"worker {name!r}: workflows must be workflows or @kiln.task tasks, "
                            f"got {item!r}")
        if wf.name in found and found[wf.name] is not wf:
            raise ValueError(f"worker {name!r}: two different workflows are named {wf.name!r}")
        wf.order()  # fail now, not at registration, on an empty workflow or a cycle
        found[wf.name] = wf
    if not found:
        raise ValueError(f"worker {name!r} has no workflows to run")
    return list(found.values())


def _check_labels(name: str, labels: Mapping[str, Any]) -> dict[str, Any]:
    for key, value in labels.items():
        if not isinstance(key, str) or not isinstance(value, str | int | float | bool):
            raise TypeError(f"worker {name!r}: labels map strings to str, int, float or bool; "
                            f"got {key!r}: {value!r}")
    return dict(labels)

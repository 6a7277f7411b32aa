"""Unit-test tasks and workflows in-process, without a server.

    from kiln import testing
    assert testing.run_task(load, parents={extract: {"rows": 3}}) == {"rows": 3}
    assert testing.run_workflow(wf, {"x": 1}) == {"load": {"rows": 3}}
    sim = testing.DurableSimulation(events=[testing.event("approved", {"by": "ann"})])
    assert testing.run_durable_task(approval, {"order_id": 7}, simulation=sim) == {...}

Values travel as they would through the server: inputs and outputs are converted to JSON (so
an output that cannot be serialized fails here too), typed inputs are rebuilt from JSON, and
children see their parents' JSON outputs. Exceptions raised by tasks propagate unchanged.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Mapping
from typing import Any, Literal, TypeVar

from kiln import serialization
from kiln.context import Context
from kiln.durable import DurableContext, Suspended
from kiln.runs import RunRef
from kiln.workflow import Task, Workflow

OutT = TypeVar("OutT")
R = TypeVar("R")
T = TypeVar("T")
Parents = Mapping[Task[Any, Any] | str, Any]


class RecordingRuntime:
    """The ``TaskRuntime`` of tests: records timeout refreshes and spawned runs, starts nothing."""

    def __init__(self) -> None:
        self.refreshes: list[float] = []
        self.spawned: list[tuple[str, dict[str, Any]]] = []

    def sync(self, factory: Callable[[], Awaitable[T]]) -> T:
        """Run the (never suspending) recording coroutine at once, even inside a loop."""
        coro = factory()
        assert isinstance(coro, Coroutine)
        try:
            coro.send(None)
        except StopIteration as done:
            result: T = done.value
            return result
        coro.close()
        raise RuntimeError("kiln.testing's runtime cannot wait for real I/O")

    async def refresh_timeout(self, seconds: float) -> None:
        self.refreshes.append(seconds)

    async def spawn(self, workflow: str, children: list[dict[str, Any]]) -> list[str]:
        start = len(self.spawned)
        self.spawned += [(workflow, child) for child in children]
        return [f"test-child-{n}" for n in range(start + 1, len(self.spawned) + 1)]

    def make_ref(self, workflow: str, run_id: str,
                 extract: Callable[[Mapping[str, Any]], R]) -> RunRef[R]:
        return RunRef(None, run_id, workflow, extract)


class RecordingContext(Context):
    """A ``Context`` for tests: ``logs`` holds ``ctx.log()`` lines as ``(level, message)``,
    ``refreshes`` the seconds asked of ``refresh_timeout``, ``spawned`` the child runs as
    ``(workflow, {"input", ...})`` — recorded, not started. ``cancel()`` simulates the server
    asking the task to stop."""

    def __init__(self, **fields: Any) -> None:
        self.logs: list[tuple[str, str]] = []
        self._recorder = RecordingRuntime()
        super().__init__(log_sink=lambda level, message: self.logs.append((level, message)),
                         runtime=self._recorder, **fields)

    @property
    def refreshes(self) -> list[float]:
        """Seconds passed to ``refresh_timeout``, in order."""
        return self._recorder.refreshes

    @property
    def spawned(self) -> list[tuple[str, dict[str, Any]]]:
        """Child runs requested with ``spawn``, in order."""
        return self._recorder.spawned

    def cancel(self) -> None:
        """Simulate the server cancelling the task: ``cancelled`` becomes True."""
        self._request_cancel()


def context(task: Task[Any, Any] | None = None, *, parents: Parents | None = None,
            metadata: Mapping[str, Any] | None = None, attempt: int = 1,
            run_id: str | None = None, errors: Mapping[str, str] | None = None,
            skipped: Iterable[Task[Any, Any] | str] = (),
            ) -> RecordingContext:
    """A context for calling a task function directly: ``extract.fn(input, ctx)``.
    ``errors`` is what an on-failure task receives: ``{failed_task: error}``; ``skipped`` names
    parents skipped by their conditions (their output is None, ``ctx.was_skipped`` is True)."""
    skipped_names = [_name(parent) for parent in skipped]
    return RecordingContext(
        run_id=run_id or f"test-run-{uuid.uuid4()}", task_run_id=f"test-task-{uuid.uuid4()}",
        attempt=attempt, workflow_name=task.workflow.name if task else "test",
        task_name=task.name if task else "test", metadata=metadata, errors=errors,
        parents={**{_name(parent): serialization.to_jsonable(output, f"output of parent {parent!r}")
                    for parent, output in (parents or {}).items()},
                 **dict.fromkeys(skipped_names)},
        skipped_parents=skipped_names)


async def aio_run_task(task: Task[Any, OutT], input: Any = None, *,
                       parents: Parents | None = None, metadata: Mapping[str, Any] | None = None,
                       attempt: int = 1, ctx: Context | None = None) -> OutT:
    """Run one task as a worker would and return its output (rebuilt as the function's return
    type if that is a model or dataclass). Every declared parent's output must be given."""
    ctx = ctx or context(task, parents=parents, metadata=metadata, attempt=attempt)
    missing = [parent for parent in task.parents if parent not in ctx.parents]
    if missing:
        raise ValueError(f"task {task.action} needs its parents' outputs: pass "
                         f"parents={{{', '.join(f'{m!r}: ...' for m in missing)}}}")
    output = await _call(task, input, ctx)
    rebuilt: OutT = serialization.coerce(output, task.output_type, f"output of task {task.name!r}")
    return rebuilt


def run_task(task: Task[Any, OutT], input: Any = None, *, parents: Parents | None = None,
             metadata: Mapping[str, Any] | None = None, attempt: int = 1,
             ctx: Context | None = None) -> OutT:
    """Blocking ``aio_run_task`` (from a test without a running event loop)."""
    output: OutT = _blocking(aio_run_task(task, input, parents=parents, metadata=metadata,
                                          attempt=attempt, ctx=ctx), "run_task")
    return output


async def aio_run_workflow(workflow: Workflow | Task[Any, Any], input: Any = None, *,
                           metadata: Mapping[str, Any] | None = None,
                           outputs: Literal["leaves", "all"] = "leaves",
                           skipped: Iterable[Task[Any, Any] | str] = ()) -> dict[str, Any]:
    """Run every task of ``workflow`` in dependency order, one at a time.

    Returns ``{leaf_task: output}`` as a real run does, or every task's output with
    ``outputs="all"`` (the on-success task's included). After the DAG succeeds the on-success
    task runs; if a task raises, the on-failure task runs with ``ctx.errors``, then the error
    propagates. DAG conditions are not evaluated (no server, no CEL): name the tasks they
    would skip in ``skipped`` — those do not run, their output is None and their children see
    them as skipped.
    """
    wf = workflow.workflow if isinstance(workflow, Task) else workflow
    run_id = f"test-run-{uuid.uuid4()}"
    results: dict[str, Any] = {}
    skip = {_name(task) for task in skipped}
    for task in wf.order():
        if task.name in skip:
            results[task.name] = None
            continue
        ctx = context(task, run_id=run_id, metadata=metadata,
                      parents={p: results[p] for p in task.parents if p not in skip},
                      skipped=[p for p in task.parents if p in skip])
        try:
            results[task.name] = await _call(task, input, ctx)
        except Exception as exc:
            if wf.on_failure is not None:
                errors = {task.name: f"{type(exc).__name__}: {exc}"}
                await _call(wf.on_failure, input, context(
                    wf.on_failure, run_id=run_id, metadata=metadata, errors=errors))
            raise
    leaves = {leaf: results[leaf] for leaf in wf.leaves}
    if wf.on_success is not None:
        results[wf.on_success.name] = await _call(
            wf.on_success, input, context(wf.on_success, run_id=run_id, metadata=metadata))
    return results if outputs == "all" else leaves


def run_workflow(workflow: Workflow | Task[Any, Any], input: Any = None, *,
                 metadata: Mapping[str, Any] | None = None,
                 outputs: Literal["leaves", "all"] = "leaves",
                 skipped: Iterable[Task[Any, Any] | str] = ()) -> dict[str, Any]:
    """Blocking ``aio_run_workflow`` (from a test without a running event loop)."""
    outputs_by_task: dict[str, Any] = _blocking(
        aio_run_workflow(workflow, input, metadata=metadata, outputs=outputs, skipped=skipped),
        "run_workflow")
    return outputs_by_task


# --- durable tasks -------------------------------------------------------------------------------


def event(key: str, payload: Any = None, *, scope: str | None = None,
          metadata: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """An event for :class:`DurableSimulation` (``scope`` goes into ``metadata["scope"]``)."""
    meta = dict(metadata or {})
    if scope is not None:
        meta["scope"] = scope
    return {"key": key, "payload": {} if payload is None else payload, "metadata": meta}


class WaitWouldBlock(AssertionError):
    """A durable wait in a simulation that nothing could ever satisfy (no matching event, no
    sleep, no timeout): on a server the task would wait forever."""


class DurableSimulation(RecordingRuntime):
    """The server side of durable calls, in-process: steps are logged, and every wait
    *suspends* the task — which then runs again from the top with its log, as on a worker, so
    a step that runs twice or a call that changes between attempts shows up in tests.

    A wait is decided at once on a simulated clock (``now``, advanced by sleeps and timeouts):
    an event condition takes the first unused event of ``events`` with its key and scope
    (filters are not evaluated — the SDK has no CEL — so list only events meant to match);
    ``any_of`` is met by a matching event at once, else by its earliest sleep or the timeout;
    ``all_of`` needs every event and waits for its latest sleep. After the run, ``log`` holds
    the durable log, ``attempts`` the number of times the task body ran, ``slept`` the time
    waited and ``events`` the events not used.
    """

    def __init__(self, events: Iterable[Mapping[str, Any]] = (),
                 now: dt.datetime | None = None) -> None:
        super().__init__()
        self.events: list[dict[str, Any]] = [dict(e) for e in events]
        self.start = self.now = now or dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
        self.log: list[dict[str, Any]] = []
        self.attempts = 0

    @property
    def slept(self) -> dt.timedelta:
        return self.now - self.start

    async def durable_step(self, seq: int, kind: str, name: str, result: Any) -> Any:
        if not any(entry["seq"] == seq for entry in self.log):
            self.log.append({"seq": seq, "kind": kind, "name": name, "result": result})
        return next(entry["result"] for entry in self.log if entry["seq"] == seq)

    async def durable_wait(self, seq: int, name: str, conditions: Mapping[str, Any],
                           timeout_seconds: float | None) -> Mapping[str, Any]:
        mode = "any" if "any_of" in conditions else "all"
        items: list[Mapping[str, Any]] = list(conditions.get("any_of") or
                                              conditions.get("all_of") or [])
        matched: list[Any] = [None] * len(items)
        for index, item in enumerate(items):
            if "event" in item and (found := self._take(item)) is not None:
                matched[index] = {"event": found}
        dues = {i: self._due(item) for i, item in enumerate(items) if "event" not in item}
        timeout = None if timeout_seconds is None else self.now + dt.timedelta(
            seconds=timeout_seconds)
        events_met = all(m is not None for i, m in enumerate(matched) if "event" in items[i])
        if mode == "any" and any(m is not None for m in matched):
            wake, timed_out = self.now, False
        elif mode == "any" and dues and (timeout is None or min(dues.values()) <= timeout):
            wake, timed_out = min(dues.values()), False
        elif mode == "all" and events_met and (
                timeout is None or max(dues.values(), default=self.now) <= timeout):
            wake, timed_out = max(dues.values(), default=self.now), False
        elif timeout is not None:
            wake, timed_out = timeout, True
        else:
            raise WaitWouldBlock(f"durable wait {name!r} at call #{seq} can never be met: pass "
                                 "matching events to DurableSimulation(events=...) or a timeout")
        self.now = max(self.now, wake)
        for index, due in dues.items():
            if due <= self.now and (mode == "all" or not timed_out):
                matched[index] = {"slept_until": due.isoformat()}
        kind = "sleep" if items and all("event" not in item for item in items) else "wait"
        self.log.append({"seq": seq, "kind": kind, "name": name,
                         "result": {"timed_out": timed_out, "matched": matched}})
        return {"suspended": True}

    def _due(self, item: Mapping[str, Any]) -> dt.datetime:
        if "sleep_until" in item:
            return dt.datetime.fromisoformat(str(item["sleep_until"]))
        return self.now + dt.timedelta(seconds=float(item["sleep_for"]))

    def _take(self, condition: Mapping[str, Any]) -> dict[str, Any] | None:
        for index, candidate in enumerate(self.events):
            scope = candidate["metadata"].get("scope")
            if candidate["key"] == condition["event"] and (
                    "scope" not in condition or str(scope) == condition["scope"]):
                found = self.events.pop(index)
                return {"id": f"test-event-{uuid.uuid4()}", **found,
                        "created_at": self.now.isoformat()}
        return None


async def aio_run_durable_task(task: Task[Any, OutT], input: Any = None, *,
                               simulation: DurableSimulation | None = None,
                               events: Iterable[Mapping[str, Any]] = (),
                               parents: Parents | None = None,
                               metadata: Mapping[str, Any] | None = None) -> OutT:
    """Run a durable task to its end on a :class:`DurableSimulation` (built from ``events``
    unless given): every wait suspends it and it runs again from the top with its log."""
    sim = simulation or DurableSimulation(events)
    base = context(task, parents=parents, metadata=metadata)
    for _ in range(10_000):
        sim.attempts += 1
        ctx = DurableContext(
            durable_log=list(sim.log), run_id=base.run_id, task_run_id=base.task_run_id,
            attempt=sim.attempts, workflow_name=base.workflow_name, task_name=base.task_name,
            metadata=base.metadata, parents=base.parents, runtime=sim,
            log_sink=lambda level, message: base.logs.append((level, message)))
        try:
            output = await _call(task, input, ctx)
        except Suspended:
            continue
        rebuilt: OutT = serialization.coerce(output, task.output_type,
                                             f"output of task {task.name!r}")
        return rebuilt
    raise RuntimeError(f"durable task {task.action} suspended 10,000 times")


def run_durable_task(task: Task[Any, OutT], input: Any = None, *,
                     simulation: DurableSimulation | None = None,
                     events: Iterable[Mapping[str, Any]] = (), parents: Parents | None = None,
                     metadata: Mapping[str, Any] | None = None) -> OutT:
    """Blocking ``aio_run_durable_task`` (from a test without a running event loop)."""
    output: OutT = _blocking(aio_run_durable_task(
        task, input, simulation=simulation, events=events, parents=parents, metadata=metadata),
        "run_durable_task")
    return output


async def _call(task: Task[Any, Any], input: Any, ctx: Context) -> Any:
    """One task call with the worker's conversions; returns the JSON output."""
    where = f"task {task.action}"
    data = serialization.to_jsonable({} if input is None else input, f"input of {where}")
    value = serialization.coerce(data, task.input_type, f"input of {where}")
    output = task.fn(value, ctx)
    if task.is_async:
        output = await output
    return serialization.to_jsonable(output, f"output of {where}")


def _blocking(coro: Any, name: str) -> Any:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    coro.close()
    raise RuntimeError(f"kiln.testing.{name}() blocks; inside async code (an async test) use "
                       f"await kiln.testing.aio_{name}(...)")


def _name(parent: Task[Any, Any] | str) -> str:
    return parent if isinstance(parent, str) else parent.name

"""Unit-test tasks and workflows in-process, without a server.

    from kiln import testing
    assert testing.run_task(load, parents={extract: {"rows": 3}}) == {"rows": 3}
    assert testing.run_workflow(wf, {"x": 1}) == {"load": {"rows": 3}}

Values travel as they would through the server: inputs and outputs are converted to JSON (so
an output that cannot be serialized fails here too), typed inputs are rebuilt from JSON, and
children see their parents' JSON outputs. Exceptions raised by tasks propagate unchanged.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from typing import Any, Literal, TypeVar

from kiln import serialization
from kiln.context import Context
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
            ) -> RecordingContext:
    """A context for calling a task function directly: ``extract.fn(input, ctx)``.
    ``errors`` is what an on-failure task receives: ``{failed_task: error}``."""
    return RecordingContext(
        run_id=run_id or f"test-run-{uuid.uuid4()}", task_run_id=f"test-task-{uuid.uuid4()}",
        attempt=attempt, workflow_name=task.workflow.name if task else "test",
        task_name=task.name if task else "test", metadata=metadata, errors=errors,
        parents={_name(parent): serialization.to_jsonable(output, f"output of parent {parent!r}")
                 for parent, output in (parents or {}).items()})


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
                           outputs: Literal["leaves", "all"] = "leaves") -> dict[str, Any]:
    """Run every task of ``workflow`` in dependency order, one at a time.

    Returns ``{leaf_task: output}`` as a real run does, or every task's output with
    ``outputs="all"`` (the on-success task's included). After the DAG succeeds the on-success
    task runs; if a task raises, the on-failure task runs with ``ctx.errors``, then the error
    propagates.
    """
    wf = workflow.workflow if isinstance(workflow, Task) else workflow
    run_id = f"test-run-{uuid.uuid4()}"
    results: dict[str, Any] = {}
    for task in wf.order():
        ctx = context(task, run_id=run_id, metadata=metadata,
                      parents={parent: results[parent] for parent in task.parents})
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
                 outputs: Literal["leaves", "all"] = "leaves") -> dict[str, Any]:
    """Blocking ``aio_run_workflow`` (from a test without a running event loop)."""
    outputs_by_task: dict[str, Any] = _blocking(
        aio_run_workflow(workflow, input, metadata=metadata, outputs=outputs), "run_workflow")
    return outputs_by_task


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

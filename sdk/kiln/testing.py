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
from collections.abc import Mapping
from typing import Any, Literal, TypeVar

from kiln import serialization
from kiln.context import Context
from kiln.workflow import Task, Workflow

OutT = TypeVar("OutT")
Parents = Mapping[Task[Any, Any] | str, Any]


class RecordingContext(Context):
    """A ``Context`` that keeps ``ctx.log()`` lines in ``logs`` and can be ``cancel()``-ed."""

    def __init__(self, **fields: Any) -> None:
        self.logs: list[tuple[str, str]] = []
        super().__init__(log_sink=lambda level, message: self.logs.append((level, message)),
                         **fields)

    def cancel(self) -> None:
        """Simulate the server cancelling the task: ``cancelled`` becomes True."""
        self._request_cancel()


def context(task: Task[Any, Any] | None = None, *, parents: Parents | None = None,
            metadata: Mapping[str, Any] | None = None, attempt: int = 1,
            run_id: str | None = None) -> RecordingContext:
    """A context for calling a task function directly: ``extract.fn(input, ctx)``."""
    return RecordingContext(
        run_id=run_id or f"test-run-{uuid.uuid4()}", task_run_id=f"test-task-{uuid.uuid4()}",
        attempt=attempt, workflow_name=task.workflow.name if task else "test",
        task_name=task.name if task else "test", metadata=metadata,
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
    ``outputs="all"``. If a task raises, the on-failure task (if any) runs, then the error
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
        except Exception:
            if wf.on_failure is not None:
                await _call(wf.on_failure, input, context(wf.on_failure, run_id=run_id,
                                                          metadata=metadata))
            raise
    return results if outputs == "all" else {leaf: results[leaf] for leaf in wf.leaves}


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

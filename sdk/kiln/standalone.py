"""Standalone tasks: ``@kiln.task`` — a task that is its own one-task workflow."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol, TypeVar, overload

from kiln import errors, runs, serialization
from kiln.workflow import AsyncTaskFunction, Task, TaskFunction, TaskOptions, Workflow

InT = TypeVar("InT")
OutT = TypeVar("OutT")


class Standalone(Task[InT, OutT], runs.Triggerable[InT, OutT]):
    """A task registered as a workflow of the same name with just this task.

    ``hello.run(input)`` returns the task's own output (not ``{"hello": output}``), rebuilt as
    the function's return type when that is a pydantic model or a dataclass.
    """

    def __init__(self, fn: Callable[..., Any], *, name: str, workflow: Workflow,
                 parents: Sequence[str], options: TaskOptions) -> None:
        Task.__init__(self, fn, name=name, workflow=workflow, parents=parents, options=options)
        runs.Triggerable.__init__(self, workflow._client, workflow.name)

    def _extract_result(self, run: Mapping[str, Any]) -> OutT:
        output = runs.workflow_output(run)
        if any(task.get("name") == self.name and task.get("status") == "skipped"
               for task in run.get("tasks", [])):
            return None  # type: ignore[return-value]  # skipped by its conditions: no output
        if self.name not in output:
            raise errors.KilnError(f"run {run.get('id')} of task {self.name!r} succeeded without "
                                   f"an output for {self.name!r} (outputs: {sorted(output)})")
        value: OutT = serialization.coerce(output[self.name], self.output_type,
                                        f"output of task {self.name!r}")
        return value

    def __repr__(self) -> str:
        return f"<Standalone task {self.name}>"


class StandaloneDecorator(Protocol):
    """What ``@kiln.task(...)`` returns: turns a function into a typed ``Standalone``."""

    @overload
    def __call__(self, fn: AsyncTaskFunction[InT, OutT], /) -> Standalone[InT, OutT]: ...
    @overload
    def __call__(self, fn: TaskFunction[InT, OutT], /) -> Standalone[InT, OutT]: ...

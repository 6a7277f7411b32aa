"""``Context``: what a running task knows about itself and how it talks back."""

from __future__ import annotations

import logging
import threading
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, overload

from kiln import durations, errors, protocol, runs, serialization

if TYPE_CHECKING:
    from kiln.workflow import Task

OutT = TypeVar("OutT")
R = TypeVar("R")
T = TypeVar("T")
LogSink = Callable[[str, str], None]
"""Receives ``(level, message)`` for every ``ctx.log()`` line."""


class TaskRuntime(Protocol):
    """What a ``Context`` needs from whatever runs its task: a worker, or ``kiln.testing``."""

    def sync(self, factory: Callable[[], Awaitable[T]]) -> T:
        """Run an async call to completion from sync code."""

    async def refresh_timeout(self, seconds: float) -> None:
        """Let the task run at least ``seconds`` more."""

    async def spawn(self, workflow: str, children: list[dict[str, Any]]) -> list[str]:
        """Start child runs; return their ids."""

    def make_ref(self, workflow: str, run_id: str,
                 extract: Callable[[Mapping[str, Any]], R]) -> runs.RunRef[R]:
        """A handle on a spawned run."""

_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING,
           "error": logging.ERROR}
_task_logger = logging.getLogger("kiln.task")


class Context:
    """Passed to every task as its second argument.

    Attributes: ``run_id``, ``task_run_id``, ``attempt`` (1 on the first try, +1 per retry),
    ``metadata`` (the run's metadata), ``workflow_name``, ``task_name``, ``parents`` (every
    parent task's output, by task name, as JSON; None for a skipped parent), ``skipped_parents``
    (parents skipped by their conditions) and ``errors`` (in an on-failure task: each failed
    task's error, by name).
    """

    def __init__(
        self, *, run_id: str, task_run_id: str, attempt: int, workflow_name: str, task_name: str,
        metadata: Mapping[str, Any] | None = None, parents: Mapping[str, Any] | None = None,
        errors: Mapping[str, str] | None = None, log_sink: LogSink | None = None,
        runtime: TaskRuntime | None = None, skipped_parents: Iterable[str] | None = None,
    ) -> None:
        self.run_id = run_id
        self.task_run_id = task_run_id
        self.attempt = attempt
        self.workflow_name = workflow_name
        self.task_name = task_name
        self.metadata: dict[str, Any] = dict(metadata or {})
        self.parents: dict[str, Any] = dict(parents or {})
        self.errors: dict[str, str] = dict(errors or {})
        self.skipped_parents: frozenset[str] = frozenset(skipped_parents or ())
        self._log_sink = log_sink
        self._runtime = runtime
        # A threading.Event, not an asyncio one: sync tasks read it from pool threads and the
        # heartbeat thread sets it.
        self._cancelled = threading.Event()

    @overload
    def task_output(self, parent: Task[Any, OutT]) -> OutT: ...
    @overload
    def task_output(self, parent: str) -> Any: ...

    def task_output(self, parent: Task[Any, Any] | str) -> Any:
        """The output of parent task ``parent`` (the task object, or its name).

        If the parent's function annotates its return type with a pydantic model or a dataclass,
        the output is rebuilt as that type; otherwise it is the JSON the parent produced. A parent
        skipped by its conditions has no output: None (tell it apart with :meth:`was_skipped`).
        """
        name = self._parent(parent)
        value = self.parents[name]
        if name in self.skipped_parents:
            return None
        if isinstance(parent, str):
            return value
        return serialization.coerce(value, parent.output_type, f"output of task {name!r}")

    def was_skipped(self, parent: Task[Any, Any] | str) -> bool:
        """True when parent task ``parent`` was skipped by its ``skip_if``/``wait_for``
        conditions (docs/durable.md, "Conditions in DAGs"); this task runs all the same."""
        return self._parent(parent) in self.skipped_parents

    def _parent(self, parent: Task[Any, Any] | str) -> str:
        name = parent if isinstance(parent, str) else parent.name
        if name not in self.parents:
            known = ", ".join(sorted(self.parents)) or "none"
            raise ValueError(
                f"task {name!r} is not a parent of {self.workflow_name}:{self.task_name} "
                f"(its parents: {known}); declare it with @wf.task(parents=[{name}])")
        return name

    def log(self, message: str, level: str = "info") -> None:
        """Record a log line for this task: shipped to the server in batches and shown in the
        dashboard, and also logged locally on the ``kiln.task`` logger."""
        level = level.lower()
        if level not in _LEVELS:
            raise ValueError(f"log level {level!r} is not one of {', '.join(_LEVELS)}")
        text = str(message)
        _task_logger.log(_LEVELS[level], "%s:%s %s", self.workflow_name, self.task_name, text,
                         extra={"kiln": {"run_id": self.run_id, "task_run_id": self.task_run_id}})
        if self._log_sink is not None:
            self._log_sink(level, text)

    @property
    def cancelled(self) -> bool:
        """True once the server asked this task to stop (cancelled, timed out or lease lost)."""
        return self._cancelled.is_set()

    @property
    def exit_flag(self) -> bool:
        """Same as ``cancelled`` (the name Hatchet's SDK uses)."""
        return self._cancelled.is_set()

    def check_cancelled(self) -> None:
        """Raise ``TaskCancelledError`` if the task was asked to stop: call it between steps of
        a long sync task. (Async tasks receive ``asyncio.CancelledError`` instead.)"""
        if self._cancelled.is_set():
            raise errors.TaskCancelledError(
                f"task {self.workflow_name}:{self.task_name} (run {self.run_id}) was cancelled")

    def wait_cancelled(self, timeout: float | None = None) -> bool:
        """Block a sync task until it is cancelled or ``timeout`` passes; True if cancelled.
        A cancellable replacement for ``time.sleep`` inside sync tasks."""
        return self._cancelled.wait(timeout)

    async def aio_refresh_timeout(self, seconds: durations.Duration) -> None:
        """Let this attempt run at least ``seconds`` more from now (a timeout is never
        shortened). Raises ``TaskCancelledError`` if the task no longer holds its lease."""
        await self._need_runtime().refresh_timeout(durations.parse(seconds))

    def refresh_timeout(self, seconds: durations.Duration) -> None:
        """Blocking ``aio_refresh_timeout``, for sync tasks."""
        self._need_runtime().sync(lambda: self.aio_refresh_timeout(seconds))

    @overload
    async def aio_spawn(self, workflow: runs.Triggerable[Any, R], input: Any = None, *,
                        metadata: Mapping[str, Any] | None = None, key: str | None = None,
                        priority: int | None = None) -> runs.RunRef[R]: ...
    @overload
    async def aio_spawn(self, workflow: str, input: Any = None, *,
                        metadata: Mapping[str, Any] | None = None, key: str | None = None,
                        priority: int | None = None) -> runs.RunRef[dict[str, Any]]: ...

    async def aio_spawn(self, workflow: Any, input: Any = None, *,
                        metadata: Mapping[str, Any] | None = None, key: str | None = None,
                        priority: int | None = None) -> runs.RunRef[Any]:
        """Start a child run of ``workflow`` (a workflow, a standalone task or a name).

        Cancelling this task's run cancels its children. ``key`` deduplicates: a retried attempt
        spawning the same key gets the same child run instead of a second one — give one
        whenever the task may be retried.
        """
        (ref,) = await self.aio_spawn_many(
            workflow, [runs.RunRequest(input, metadata, key, priority)])
        return ref

    async def aio_spawn_many(self, workflow: Any,
                             inputs: Sequence[Any]) -> list[runs.RunRef[Any]]:
        """Start many child runs; items may be inputs or ``RunRequest`` (input, metadata, key,
        priority)."""
        runtime = self._need_runtime()
        name, extract = _target(workflow)
        children = [protocol.run_body(name, {} if item.input is None else item.input,
                                      item.metadata, item.priority, item.key)
                    for item in (i if isinstance(i, runs.RunRequest) else runs.RunRequest(i)
                                 for i in inputs)]
        ids = await runtime.spawn(name, children)
        return [runtime.make_ref(name, run_id, extract) for run_id in ids]

    def spawn(self, workflow: Any, input: Any = None, *,
              metadata: Mapping[str, Any] | None = None, key: str | None = None,
              priority: int | None = None) -> runs.RunRef[Any]:
        """Blocking ``aio_spawn``, for sync tasks."""
        return self._need_runtime().sync(lambda: self.aio_spawn(
            workflow, input, metadata=metadata, key=key, priority=priority))

    def spawn_many(self, workflow: Any, inputs: Sequence[Any]) -> list[runs.RunRef[Any]]:
        """Blocking ``aio_spawn_many``, for sync tasks."""
        return self._need_runtime().sync(lambda: self.aio_spawn_many(workflow, inputs))

    def _need_runtime(self) -> TaskRuntime:
        if self._runtime is None:
            raise RuntimeError("this Context is not attached to a worker; build one with "
                               "kiln.testing.context(...) to call tasks directly")
        return self._runtime

    def _request_cancel(self) -> None:
        self._cancelled.set()

    def __repr__(self) -> str:
        return (f"Context(workflow={self.workflow_name!r}, task={self.task_name!r}, "
                f"run_id={self.run_id!r}, attempt={self.attempt})")


def _target(workflow: Any) -> tuple[str, Callable[[Mapping[str, Any]], Any]]:
    """The workflow name to spawn and how to read a child's result."""
    if isinstance(workflow, str):
        return workflow, runs.workflow_output
    if isinstance(workflow, runs.Triggerable):
        return workflow._trigger_name, workflow._extract_result
    raise TypeError(f"spawn takes a workflow, a @kiln.task task or a workflow name, "
                    f"got {workflow!r}")

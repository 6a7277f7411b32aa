"""``Context``: what a running task knows about itself and how it talks back."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar, overload

from kiln import errors, serialization

if TYPE_CHECKING:
    from kiln.workflow import Task

OutT = TypeVar("OutT")
LogSink = Callable[[str, str], None]
"""Receives ``(level, message)`` for every ``ctx.log()`` line."""

_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING,
           "error": logging.ERROR}
_task_logger = logging.getLogger("kiln.task")


class Context:
    """Passed to every task as its second argument.

    Attributes: ``run_id``, ``task_run_id``, ``attempt`` (1 on the first try, +1 per retry),
    ``metadata`` (the run's metadata), ``workflow_name``, ``task_name`` and ``parents`` (every
    parent task's output, by task name, as JSON).
    """

    def __init__(
        self, *, run_id: str, task_run_id: str, attempt: int, workflow_name: str, task_name: str,
        metadata: Mapping[str, Any] | None = None, parents: Mapping[str, Any] | None = None,
        log_sink: LogSink | None = None,
    ) -> None:
        self.run_id = run_id
        self.task_run_id = task_run_id
        self.attempt = attempt
        self.workflow_name = workflow_name
        self.task_name = task_name
        self.metadata: dict[str, Any] = dict(metadata or {})
        self.parents: dict[str, Any] = dict(parents or {})
        self._log_sink = log_sink
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
        the output is rebuilt as that type; otherwise it is the JSON the parent produced.
        """
        name = parent if isinstance(parent, str) else parent.name
        if name not in self.parents:
            known = ", ".join(sorted(self.parents)) or "none"
            raise ValueError(
                f"task {name!r} is not a parent of {self.workflow_name}:{self.task_name} "
                f"(its parents: {known}); declare it with @wf.task(parents=[{name}])")
        value = self.parents[name]
        if isinstance(parent, str):
            return value
        return serialization.coerce(value, parent.output_type, f"output of task {name!r}")

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

    def refresh_timeout(self, increment: Any) -> None:
        """Extend this attempt's execution timeout. Reserved: the server protocol has no way to
        do this yet, so this raises ``NotImplementedError`` rather than silently doing nothing."""
        raise NotImplementedError(
            "ctx.refresh_timeout() needs server support that the Kiln protocol does not have yet; "
            "raise execution_timeout on the task instead")

    def _request_cancel(self) -> None:
        self._cancelled.set()

    def __repr__(self) -> str:
        return (f"Context(workflow={self.workflow_name!r}, task={self.task_name!r}, "
                f"run_id={self.run_id!r}, attempt={self.attempt})")

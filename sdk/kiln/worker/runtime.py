"""What a running task's ``Context`` reaches through its worker: timeouts and child runs."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from kiln import errors, protocol, runs

if TYPE_CHECKING:
    from kiln.client import Kiln

R = TypeVar("R")
T = TypeVar("T")


class WorkerRuntime:
    """The ``TaskRuntime`` of one claimed task: calls are made with its lease."""

    def __init__(self, client: Kiln, worker_id: Callable[[], str], lease: protocol.Lease) -> None:
        self._client = client
        self._worker_id = worker_id
        self._lease = lease

    def sync(self, factory: Callable[[], Awaitable[T]]) -> T:
        """Blocking calls go through the client's sync facade (never the worker's loop, which
        a sync task's thread must not block on)."""
        return self._client.sync(factory)

    async def refresh_timeout(self, seconds: float) -> None:
        """Extend the task's execution timeout; a lost lease becomes ``TaskCancelledError``."""
        try:
            await protocol.refresh_timeout(self._client.transport, self._worker_id(),
                                           self._lease, seconds)
        except errors.ApiError as exc:
            if exc.status != 409:
                raise
            raise errors.TaskCancelledError(
                f"cannot refresh the timeout of task run {self._lease['task_run_id']}: it no "
                "longer runs under this lease (cancelled, timed out or lost)") from exc

    async def spawn(self, workflow: str, children: list[dict[str, Any]]) -> list[str]:
        """Start child runs of this task."""
        return await protocol.spawn(self._client.transport, self._worker_id(), self._lease,
                                    workflow, children)

    async def durable_step(self, seq: int, kind: str, name: str, result: Any) -> Any:
        """Log a durable task's completed call (a lost lease becomes ``TaskCancelledError``)."""
        try:
            return await protocol.durable_step(self._client.transport, self._worker_id(),
                                               self._lease, seq, kind, name, result)
        except errors.ApiError as exc:
            raise self._lost(exc) from exc

    async def durable_wait(self, seq: int, name: str, conditions: Mapping[str, Any],
                           timeout_seconds: float | None) -> Mapping[str, Any]:
        """Register a durable wait; the task is suspended unless the reply says satisfied."""
        try:
            return await protocol.durable_wait(self._client.transport, self._worker_id(),
                                               self._lease, seq, name, conditions, timeout_seconds)
        except errors.ApiError as exc:
            raise self._lost(exc) from exc

    def _lost(self, exc: errors.ApiError) -> Exception:
        if exc.status != 409:
            return exc
        return errors.TaskCancelledError(
            f"task run {self._lease['task_run_id']} no longer runs under this lease "
            "(cancelled, timed out or lost)")

    def make_ref(self, workflow: str, run_id: str,
                 extract: Callable[[Mapping[str, Any]], R]) -> runs.RunRef[R]:
        """A handle on a child run, read with the worker's client."""
        return runs.RunRef(self._client, run_id, workflow, extract)

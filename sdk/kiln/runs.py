"""Triggering runs and following them: ``wf.run(...)``, ``wf.run_no_wait(...)`` → ``RunRef``."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from kiln import durations, errors, protocol, serialization

if TYPE_CHECKING:
    from kiln.client import Kiln

InT = TypeVar("InT")
R = TypeVar("R")
BULK_LIMIT = 1000  # the server's cap per bulk request; larger batches are split
_FIRST_POLL, _MAX_POLL = 0.05, 0.5


@dataclasses.dataclass(frozen=True)
class RunRequest(Generic[InT]):
    """One run of a bulk trigger, when it needs metadata or an idempotency key."""

    input: InT
    metadata: Mapping[str, Any] | None = None
    key: str | None = None
    priority: int | None = None


def workflow_output(run: Mapping[str, Any]) -> dict[str, Any]:
    """A workflow run's result: ``{leaf_task_name: output}``."""
    return dict(run.get("output") or {})


class RunRef(Generic[R]):
    """A handle on a triggered run: ``id``, ``status()``, ``result()``, ``cancel()``.

    Every method has an ``aio_`` twin for async code; the plain ones block.
    """

    def __init__(self, client: Kiln | None, run_id: str, workflow: str,
                 extract: Callable[[Mapping[str, Any]], R]) -> None:
        self.id = run_id
        self.workflow = workflow
        self._kiln = client
        self._extract = extract

    @property
    def _client(self) -> Kiln:
        if self._kiln is None:
            raise errors.KilnError(
                f"run {self.id} was recorded by kiln.testing, not started: there is nothing to "
                "wait for (see ctx.spawned)")
        return self._kiln

    async def aio_get(self) -> dict[str, Any]:
        """The full run as ``GET /api/v1/runs/{id}`` returns it, tasks included."""
        return await protocol.get_run(self._client.transport, self.id)

    async def aio_status(self) -> str:
        """The run's status: pending, queued, running, succeeded, failed or cancelled."""
        return str((await self.aio_get())["status"])

    async def aio_result(self, timeout: durations.Duration | None = None) -> R:  # noqa: ASYNC109 - mirrors result(timeout)
        """Wait until the run ends; return its output or raise ``RunFailedError`` /
        ``RunCancelledError`` (``TimeoutError`` if ``timeout`` passes first)."""
        deadline = None if timeout is None else time.monotonic() + durations.parse(timeout)
        delay = _FIRST_POLL
        while True:
            run = await self.aio_get()
            if run["status"] in protocol.TERMINAL_STATUSES:
                return self._finish(run)
            if deadline is not None and time.monotonic() + delay > deadline:
                raise TimeoutError(f"run {self.id} of workflow {self.workflow!r} is still "
                                   f"{run['status']} after {timeout!r}")
            # The protocol has no "wait for this run" call, so poll, backing off to 0.5 s.
            await asyncio.sleep(delay)
            delay = min(_MAX_POLL, delay * 1.5)

    def _finish(self, run: Mapping[str, Any]) -> R:
        if run["status"] == "cancelled":
            raise errors.RunCancelledError(self.id, self.workflow)
        if run["status"] == "failed":
            failed = {str(task["name"]): str(task.get("error") or "failed")
                      for task in run.get("tasks", []) if task.get("status") == "failed"}
            if not failed and run.get("error"):
                failed = {"run": str(run["error"])}
            raise errors.RunFailedError(self.id, self.workflow, failed, run)
        return self._extract(run)

    async def aio_cancel(self) -> None:
        """Ask the server to cancel the run (``ApiError`` 409 if it had already finished)."""
        await protocol.cancel_run(self._client.transport, self.id)

    async def aio_replay(self, from_task: str | None = None) -> None:
        """Run a finished run again, whole or from ``from_task`` on (``ApiError`` 409 if it has
        not finished). ``result()`` then waits for the new outcome."""
        await protocol.replay_run(self._client.transport, self.id, from_task)

    def get(self) -> dict[str, Any]:
        """Blocking ``aio_get``."""
        return self._client.sync(self.aio_get)

    def status(self) -> str:
        """Blocking ``aio_status``."""
        return self._client.sync(self.aio_status)

    def result(self, timeout: durations.Duration | None = None) -> R:
        """Blocking ``aio_result``."""
        return self._client.sync(lambda: self.aio_result(timeout))

    def cancel(self) -> None:
        """Blocking ``aio_cancel``."""
        self._client.sync(self.aio_cancel)

    def replay(self, from_task: str | None = None) -> None:
        """Blocking ``aio_replay``."""
        self._client.sync(lambda: self.aio_replay(from_task))

    def __repr__(self) -> str:
        return f"<RunRef {self.workflow} {self.id}>"


class Triggerable(Generic[InT, R]):
    """The ways to start runs of one workflow, shared by workflows and standalone tasks."""

    def __init__(self, client: Kiln | None, workflow_name: str) -> None:
        self._client = client
        self._trigger_name = workflow_name

    def _extract_result(self, run: Mapping[str, Any]) -> R:
        raise NotImplementedError

    def _kiln(self) -> Kiln:
        if self._client is None:
            raise errors.ConfigurationError(
                f"workflow {self._trigger_name!r} has no Kiln client to trigger it with; create it "
                "with kiln.workflow(...) or @kiln.task(...)")
        return self._client

    def ref(self, run_id: str) -> RunRef[R]:
        """A ``RunRef`` for an existing run of this workflow (e.g. one a task spawned)."""
        return self._ref(run_id)

    def _ref(self, run_id: str) -> RunRef[R]:
        return RunRef(self._kiln(), run_id, self._trigger_name, self._extract_result)

    async def aio_run_no_wait(self, input: InT | None = None, *,
                              metadata: Mapping[str, Any] | None = None, key: str | None = None,
                              priority: int | None = None) -> RunRef[R]:
        """Start a run and return its ``RunRef`` at once.

        ``key`` is an idempotency key: the same key returns the same run (one is generated, so
        retries never start a second). ``priority`` is 1 (low), 2 (normal) or 3 (high).
        """
        client = self._kiln()
        body = protocol.run_body(self._trigger_name, {} if input is None else input, metadata,
                                 priority)
        reply = await protocol.trigger(client.transport, self._trigger_name, body,
                                       key or str(uuid.uuid4()))
        return self._ref(str(reply["id"]))

    async def aio_run(self, input: InT | None = None, *, metadata: Mapping[str, Any] | None = None,
                      key: str | None = None, priority: int | None = None,
                      timeout: durations.Duration | None = None) -> R:  # noqa: ASYNC109 - as run()
        """Start a run and wait for its result (see ``RunRef.aio_result``)."""
        ref = await self.aio_run_no_wait(input, metadata=metadata, key=key, priority=priority)
        return await ref.aio_result(timeout)

    async def aio_run_many_no_wait(
            self, inputs: Sequence[InT | RunRequest[InT]]) -> list[RunRef[R]]:
        """Start many runs with the bulk route (one transaction per 1,000)."""
        client = self._kiln()
        requests = [item if isinstance(item, RunRequest) else RunRequest(item) for item in inputs]
        ids: list[str] = []
        for start in range(0, len(requests), BULK_LIMIT):
            chunk = [_bulk_item(self._trigger_name, request)
                     for request in requests[start:start + BULK_LIMIT]]
            ids += await protocol.trigger_bulk(client.transport, self._trigger_name, chunk)
        return [self._ref(run_id) for run_id in ids]

    async def aio_run_many(self, inputs: Sequence[InT | RunRequest[InT]], *,
                           timeout: durations.Duration | None = None,  # noqa: ASYNC109
                           ) -> list[R]:
        """Start many runs and wait for all their results, in input order."""
        refs = await self.aio_run_many_no_wait(inputs)
        return list(await asyncio.gather(*(ref.aio_result(timeout) for ref in refs)))

    async def aio_schedule(self, at: dt.datetime, input: InT | None = None, *,
                           metadata: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Start one run at ``at`` (a timezone-aware datetime); returns the schedule (``id``,
        ``at``, ``status``…), which ``/api/v1/schedules`` lists, reschedules and deletes."""
        if at.tzinfo is None:
            raise ValueError("schedule times need a timezone, e.g. datetime.now(timezone.utc)")
        body = {"workflow": self._trigger_name, "at": at.isoformat(),
                "input": serialization.to_jsonable({} if input is None else input, "input"),
                "metadata": dict(metadata or {})}
        return await protocol.create_schedule(self._kiln().transport, body)

    def schedule(self, at: dt.datetime, input: InT | None = None, *,
                 metadata: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Blocking ``aio_schedule``."""
        return self._kiln().sync(lambda: self.aio_schedule(at, input, metadata=metadata))

    def run_no_wait(self, input: InT | None = None, *, metadata: Mapping[str, Any] | None = None,
                    key: str | None = None, priority: int | None = None) -> RunRef[R]:
        """Blocking ``aio_run_no_wait``."""
        return self._kiln().sync(lambda: self.aio_run_no_wait(
            input, metadata=metadata, key=key, priority=priority))

    def run(self, input: InT | None = None, *, metadata: Mapping[str, Any] | None = None,
            key: str | None = None, priority: int | None = None,
            timeout: durations.Duration | None = None) -> R:
        """Blocking ``aio_run``: start a run, wait, return its output or raise its failure."""
        return self._kiln().sync(lambda: self.aio_run(
            input, metadata=metadata, key=key, priority=priority, timeout=timeout))

    def run_many_no_wait(self, inputs: Sequence[InT | RunRequest[InT]]) -> list[RunRef[R]]:
        """Blocking ``aio_run_many_no_wait``."""
        return self._kiln().sync(lambda: self.aio_run_many_no_wait(inputs))

    def run_many(self, inputs: Sequence[InT | RunRequest[InT]], *,
                 timeout: durations.Duration | None = None) -> list[R]:
        """Blocking ``aio_run_many``."""
        return self._kiln().sync(lambda: self.aio_run_many(inputs, timeout=timeout))


def _bulk_item(workflow: str, request: RunRequest[Any]) -> dict[str, Any]:
    return protocol.run_body(workflow, {} if request.input is None else request.input,
                             request.metadata, request.priority, request.key)

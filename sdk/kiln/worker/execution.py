"""Running one claimed task: typed input in, JSON result out, whatever the task does."""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import traceback
from typing import Any

from kiln import _log, errors, protocol, serialization
from kiln.context import Context, LogSink, TaskRuntime
from kiln.durable import DurableContext, Suspended
from kiln.workflow import Task

# The server's limits (characters). The tail of a huge traceback says more than its head.
MAX_ERROR = 10_000
MAX_TRACEBACK = 100_000


class Execution:
    """One attempt of one task on this worker, from claim to result."""

    def __init__(self, task: Task[Any, Any], assignment: protocol.Assignment,
                 log_sink: LogSink | None = None, runtime: TaskRuntime | None = None) -> None:
        self.task = task
        self.assignment = assignment
        self.task_run_id = assignment["task_run_id"]
        self.lease_id = assignment["lease_id"]
        # A durable task replays its log through a DurableContext (docs/durable.md).
        durable_log = {"durable_log": assignment.get("durable_log") or []} if task.durable else {}
        self.ctx = (DurableContext if task.durable else Context)(
            **durable_log, run_id=assignment["run_id"], task_run_id=self.task_run_id,
            attempt=assignment["attempt"], workflow_name=task.workflow.name, task_name=task.name,
            metadata=assignment.get("metadata"), parents=assignment.get("parents"),
            errors=assignment.get("errors"), log_sink=log_sink, runtime=runtime,
            skipped_parents=assignment.get("skipped_parents"))
        self.cancel_requested = False
        self.runner: asyncio.Task[None] | None = None
        self._user_task: asyncio.Future[Any] | None = None

    def cancel(self) -> None:
        """The server asked to stop this task: flag sync code, cancel async code."""
        self.cancel_requested = True
        self.ctx._request_cancel()
        if self._user_task is not None:
            self._user_task.cancel()

    async def run(self, pool: concurrent.futures.Executor) -> protocol.Result | None:
        """Run the task; its result, or None when it was cancelled (the server already knows
        its fate, so a result would only be rejected)."""
        where = f"task {self.task.action}"
        try:
            value = serialization.coerce(self.assignment["input"], self.task.input_type,
                                         f"input of {where}")
            output = await self._call(value, pool)
            payload = serialization.to_jsonable(output, f"output of {where}")
        except Suspended:
            return None  # the server released the lease: the task resumes when its wait is met
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if self.cancel_requested and not (current and current.cancelling()):
                return None
            raise  # the worker itself is giving up on this task (shutdown deadline)
        except Exception as exc:
            if self.cancel_requested:
                return None
            return self._failure(exc)
        if self.cancel_requested:
            return None
        return {"task_run_id": self.task_run_id, "lease_id": self.lease_id,
                "status": "succeeded", "output": payload}

    async def _call(self, value: Any, pool: concurrent.futures.Executor) -> Any:
        if self.task.is_async:
            # A task of its own, so a cancellation from the server reaches only the user code.
            self._user_task = asyncio.ensure_future(self.task.fn(value, self.ctx))
            return await self._user_task
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(pool, self.task.fn, value, self.ctx)

    def _failure(self, exc: Exception) -> protocol.Result:
        # Bad input, unserializable output and NonRetryableError fail the same way every time.
        retryable = not isinstance(exc, errors.NonRetryableError | errors.InvalidInputError
                                   | errors.SerializationError)
        text = "".join(traceback.format_exception(exc))
        _log.event(logging.WARNING, "task_failed", action_name=self.task.action,
                   run_id=self.ctx.run_id, attempt=self.ctx.attempt, retryable=retryable,
                   error=f"{type(exc).__name__}: {exc}")
        error = f"{type(exc).__name__}: {exc}"
        if len(error) > MAX_ERROR:
            error = error[:MAX_ERROR - 15] + " … (truncated)"
        return {"task_run_id": self.task_run_id, "lease_id": self.lease_id, "status": "failed",
                "error": error, "traceback": text[-MAX_TRACEBACK:], "retryable": retryable}

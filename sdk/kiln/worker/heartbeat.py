"""Heartbeats from a thread of their own, so nothing a task does can starve them.

Sync tasks run in pool threads and could not block the worker's event loop anyway, but an async
task that blocks (``time.sleep`` in an ``async def``, a CPU-bound loop) would stall every
coroutine on it. The heartbeat therefore runs its own small event loop in a daemon thread with
its own HTTP connection; only the cancellations it learns about hop back to the worker's loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable

from kiln import _log, errors, protocol, transport

# Few, quick retries: the next beat comes soon anyway, and leases outlast several missed beats.
HEARTBEAT_RETRY = transport.RetryPolicy(attempts=2, base_delay=0.2, max_delay=1.0)


class LeaseTable:
    """The leases of running tasks, shared between the worker loop and the heartbeat thread."""

    def __init__(self) -> None:
        self._leases: dict[str, str] = {}
        self._lock = threading.Lock()

    def add(self, task_run_id: str, lease_id: str) -> None:
        """Start heartbeating a task."""
        with self._lock:
            self._leases[task_run_id] = lease_id

    def remove(self, task_run_id: str) -> None:
        """Stop heartbeating a task (finished, cancelled or given up)."""
        with self._lock:
            self._leases.pop(task_run_id, None)

    def snapshot(self) -> list[protocol.Lease]:
        """The leases to extend now."""
        with self._lock:
            return [{"task_run_id": task_run_id, "lease_id": lease_id}
                    for task_run_id, lease_id in self._leases.items()]

    def __len__(self) -> int:
        with self._lock:
            return len(self._leases)


class Heartbeater:
    """Every ``interval`` seconds, extends the leases in ``leases`` and reports cancellations.

    ``on_cancel(task_run_ids)`` and ``on_fatal(exc)`` are called from the heartbeat thread; they
    must hand over to the worker's loop themselves. ``on_fatal`` receives errors that retrying
    cannot fix: a rejected (401) or under-scoped (403) key.
    """

    def __init__(self, t: transport.Transport, worker_id: Callable[[], str], interval: float,
                 leases: LeaseTable, on_cancel: Callable[[list[str]], None],
                 on_fatal: Callable[[BaseException], None]) -> None:
        self._transport = t
        self._worker_id = worker_id
        self.interval = interval
        self._leases = leases
        self._on_cancel = on_cancel
        self._on_fatal = on_fatal
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()

    def start(self) -> None:
        """Start the thread and return once its loop runs."""
        self._thread = threading.Thread(target=asyncio.run, args=(self._main(),),
                                        name="kiln-heartbeat", daemon=True)
        self._thread.start()
        self._ready.wait()

    def stop(self) -> None:
        """Stop beating and wait for the thread (blocking: call it via ``asyncio.to_thread``)."""
        loop, stop = self._loop, self._stop
        if loop is not None and stop is not None and not loop.is_closed():
            # RuntimeError: the loop closed between the check and the call.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(stop.set)
        if self._thread is not None:
            self._thread.join()

    async def _main(self) -> None:
        self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
        self._ready.set()
        try:
            while True:
                try:
                    await asyncio.wait_for(self._stop.wait(), self.interval)
                    return
                except TimeoutError:
                    pass
                await self.beat_once()
        finally:
            await self._transport.aclose()

    async def beat_once(self) -> list[str]:
        """Send one heartbeat; return the task runs the server wants stopped."""
        try:
            cancel = await protocol.heartbeat(self._transport, self._worker_id(),
                                              self._leases.snapshot(), HEARTBEAT_RETRY)
        except (errors.AuthenticationError, errors.PermissionDeniedError) as exc:
            self._on_fatal(exc)
            return []
        except (errors.ServerUnavailableError, errors.ApiError) as exc:
            # 404 too: the poll loop notices an unknown worker and registers again.
            _log.event(logging.WARNING, "heartbeat_failed", error=exc)
            return []
        if cancel:
            self._on_cancel(cancel)
        return cancel

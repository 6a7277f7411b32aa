"""The sync facade's engine: one background event loop that runs the async API.

Blocking methods (``wf.run()``, ``ref.result()``, ``kiln.events.push()`` …) submit the matching
coroutine here and wait. One implementation of every call (the async one), one connection pool
for all sync callers, and it works from any thread — including sync tasks in a worker's pool and
code that already runs an event loop.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
from collections.abc import Awaitable, Callable
from typing import TypeVar

from kiln import _log

T = TypeVar("T")


class Portal:
    """Starts its loop thread on first use; ``close()`` stops it."""

    def __init__(self, name: str = "kiln-sync") -> None:
        self._name = name
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._warned = False

    def _ensure(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                # A daemon thread: a forgotten close() must not keep the interpreter alive.
                thread = threading.Thread(target=loop.run_forever, name=self._name, daemon=True)
                thread.start()
                self._loop, self._thread = loop, thread
            return self._loop

    def call(self, factory: Callable[[], Awaitable[T]]) -> T:
        """Run ``factory()`` on the portal loop and block until it finishes."""
        loop = self._ensure()
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            raise RuntimeError("a blocking Kiln call was made from the SDK's own sync loop; "
                               "use the aio_ method instead")
        if running is not None and not self._warned:
            self._warned = True  # once: it works, but stalls every other coroutine on that loop
            _log.event(logging.WARNING, "blocking_call_in_event_loop",
                       hint="use the aio_ form of this call (e.g. await wf.aio_run(...))")

        async def run() -> T:
            return await factory()

        future: concurrent.futures.Future[T] = asyncio.run_coroutine_threadsafe(run(), loop)
        try:
            return future.result()
        except BaseException:
            future.cancel()  # e.g. KeyboardInterrupt while waiting: do not leave it running
            raise

    def close(self, cleanup: Callable[[], Awaitable[None]] | None = None) -> None:
        """Run ``cleanup`` on the loop (closing its HTTP client), then stop the thread."""
        with self._lock:
            loop, thread = self._loop, self._thread
            self._loop = self._thread = None
        if loop is None or thread is None:
            return
        if cleanup is not None:
            asyncio.run_coroutine_threadsafe(_call(cleanup), loop).result()
        loop.call_soon_threadsafe(loop.stop)
        thread.join()
        loop.close()


async def _call(factory: Callable[[], Awaitable[None]]) -> None:
    await factory()

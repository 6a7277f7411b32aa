"""Batching results and log lines: many small items, few requests."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

from kiln import _log, errors

T = TypeVar("T")
_RETRY_FIRST, _RETRY_MAX = 0.5, 10.0


class Batcher(Generic[T]):
    """Collects items from any thread and sends them from one event loop.

    A batch goes out when ``max_items`` are waiting or ``linger`` seconds after the first item,
    whichever comes first — a few milliseconds of lingering lets tasks finishing together share
    one request; with ``linger_while``, only while it says more items are coming (a worker
    with nothing else running sends a result at once: nothing would join it). Up to
    ``concurrency`` batches are in flight at once (items in no particular order between them).
    A send that fails because the server is away is retried with backoff; items the server
    refuses (4xx) are dropped with an error log.
    """

    def __init__(self, name: str, send: Callable[[list[T]], Awaitable[None]], *,
                 max_items: int, linger: float, concurrency: int = 1,
                 linger_while: Callable[[], bool] | None = None,
                 on_sent: Callable[[], None] | None = None) -> None:
        self.name = name
        self._send = send
        self.max_items = max_items
        self.linger = linger
        self.concurrency = concurrency
        self._linger_while = linger_while
        self._on_sent = on_sent
        self._items: list[T] = []
        self._in_flight = 0
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake = asyncio.Event()
        self._now = asyncio.Event()
        self._closing = False

    def add(self, item: T) -> None:
        """Queue one item; thread-safe."""
        with self._lock:
            self._items.append(item)
            count = len(self._items)
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._signal, count)

    def _signal(self, count: int) -> None:
        self._wake.set()
        if count >= self.max_items or (self._linger_while is not None
                                       and not self._linger_while()):
            self._now.set()  # a lingering sender sends at once

    def pending(self) -> int:
        """How many items wait to be sent."""
        with self._lock:
            return len(self._items)

    def outstanding(self) -> int:
        """How many items are not yet accepted by the server (waiting or being sent)."""
        with self._lock:
            return len(self._items) + self._in_flight

    async def run(self) -> None:
        """Send batches until ``close()``; then send what is left, once."""
        self._loop = asyncio.get_running_loop()
        if self.pending():
            self._wake.set()
        await asyncio.gather(*(self._sender() for _ in range(self.concurrency)))
        lost = self.pending()
        if lost:
            _log.event(logging.ERROR, "batch_lost", batch=self.name, items=lost)

    async def _sender(self) -> None:
        delay = _RETRY_FIRST
        while not self._closing or self.pending():
            await self._wake.wait()
            if (not self._closing and self.pending() < self.max_items
                    and (self._linger_while is None or self._linger_while())):
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._now.wait(), self.linger)
            self._wake.clear()
            self._now.clear()
            if await self.flush():
                delay = _RETRY_FIRST
            elif self._closing:
                self._wake.set()  # the other senders try once more, then stop too
                break
            else:
                await asyncio.sleep(delay)
                delay = min(_RETRY_MAX, delay * 2)
                self._wake.set()

    async def flush(self) -> bool:
        """Send everything waiting, ``max_items`` per request; False if the server was away
        (the items stay queued)."""
        while True:
            with self._lock:
                batch, self._items = self._items[:self.max_items], self._items[self.max_items:]
                self._in_flight += len(batch)
                more = bool(self._items)
            if not batch:
                return True
            if more:
                self._wake.set()  # another sender may take the next batch meanwhile
            try:
                await self._send(batch)
            except (errors.ServerUnavailableError, errors.ApiError) as exc:
                if isinstance(exc, errors.ApiError) and exc.status < 500:
                    _log.event(logging.ERROR, "batch_refused", batch=self.name,
                               items=len(batch), error=exc)
                    continue
                with self._lock:
                    self._items[:0] = batch
                _log.event(logging.WARNING, "batch_deferred", batch=self.name, items=len(batch),
                           error=exc)
                return False
            finally:
                with self._lock:
                    self._in_flight -= len(batch)
                if self._on_sent is not None:
                    self._on_sent()

    def close(self) -> None:
        """Ask ``run()`` to send what is left and return."""
        self._closing = True
        self._wake.set()

"""A thread pool whose threads do not hold the process open.

``concurrent.futures.ThreadPoolExecutor`` joins its threads at interpreter exit, so one sync task
stuck past the drain deadline would keep a stopping worker alive forever. These threads are
daemons: once the worker has given up on a task, exiting the process ends it (its lease expires
and the server runs it again elsewhere).
"""

from __future__ import annotations

import concurrent.futures
import queue
import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")
_Item = tuple["concurrent.futures.Future[Any]", Callable[..., Any], tuple[Any, ...]]


class DaemonThreadPool(concurrent.futures.Executor):
    """At most ``max_workers`` daemon threads, started on demand and reused."""

    def __init__(self, max_workers: int, name: str = "kiln-task") -> None:
        if max_workers < 1:
            raise ValueError("max_workers must be at least 1")
        self._max_workers = max_workers
        self._name = name
        self._queue: queue.SimpleQueue[_Item | None] = queue.SimpleQueue()
        self._idle = threading.Semaphore(0)
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._shutdown = False

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any,
               ) -> concurrent.futures.Future[T]:
        """Schedule ``fn(*args, **kwargs)`` on a pool thread."""
        future: concurrent.futures.Future[T] = concurrent.futures.Future()
        with self._lock:
            if self._shutdown:
                raise RuntimeError("cannot submit to a pool that was shut down")
            self._queue.put((future, lambda: fn(*args, **kwargs), ()))
            # Reuse an idle thread if there is one (as ThreadPoolExecutor does), else add one.
            if not self._idle.acquire(blocking=False) and len(self._threads) < self._max_workers:
                thread = threading.Thread(target=self._work, daemon=True,
                                          name=f"{self._name}-{len(self._threads)}")
                thread.start()
                self._threads.append(thread)
        return future

    def _work(self) -> None:
        while (item := self._queue.get()) is not None:
            future, call, _ = item
            if future.set_running_or_notify_cancel():
                try:
                    result = call()
                except BaseException as exc:  # delivered to whoever awaits the future
                    future.set_exception(exc)
                else:
                    future.set_result(result)
            self._idle.release()

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Stop accepting work; with ``wait``, join threads once their current call ends."""
        with self._lock:
            self._shutdown = True
            threads = list(self._threads)
        if cancel_futures:
            while True:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is not None:
                    item[0].cancel()
        for _ in threads:
            self._queue.put(None)
        if wait:
            for thread in threads:
                thread.join()

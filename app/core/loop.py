"""Background loops: small classes with ``run_once()`` holding all the logic.

A loop sleeps ``interval`` seconds between passes, or less when :meth:`Loop.wake` is called (e.g.
from a LISTEN notification), and runs again at once while a pass reports it did a full batch.
Tests call ``run_once()`` directly instead of sleeping.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass

import structlog

log = structlog.get_logger("kiln.loop")


@dataclass(frozen=True, slots=True)
class LoopConfig:
    interval: float = 1.0
    """Seconds between passes when idle."""
    error_backoff: float = 5.0
    """Seconds to wait after a pass raised (the database may be restarting)."""


class Loop:
    """Subclasses set ``name`` and implement :meth:`run_once`."""

    name = "loop"

    def __init__(self, config: LoopConfig | None = None) -> None:
        self.config = config or LoopConfig()
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._stopping = False

    async def run_once(self) -> int:
        """Do one batch of work; return how many items it handled. A return of
        :attr:`batch_size` or more means "there may be more": the loop runs again at once."""
        raise NotImplementedError

    batch_size = 1_000_000  # subclasses with batches set their own

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        self._stopping = False
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"kiln-loop-{self.name}")

    async def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while not self._stopping:
            delay = self.config.interval
            try:
                handled = await self.run_once()
                if handled >= self.batch_size:
                    delay = 0
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("loop pass failed", action="loop.error", loop=self.name)
                delay = self.config.error_backoff
            if delay:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=delay)
            else:
                await asyncio.sleep(0)  # let requests run between back-to-back batches

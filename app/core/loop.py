"""Background loops: small classes with ``run_once()`` holding all the logic.

A loop sleeps ``interval`` seconds between passes, or less when :meth:`Loop.wake` is called (e.g.
from a LISTEN notification), and runs again at once while a pass reports it did a full batch.
A loop with an ``idle_interval`` sleeps that long (or until :meth:`Loop.idle_delay`) after a pass
that found nothing, and :meth:`Loop.nudge` — a NOTIFY from a writer of its table — ends that
sleep; a nudge during a busy loop's pass or sleep changes nothing (the next pass comes anyway), so
a stream of writes does not turn into back-to-back passes. A loop with a ``min_spacing`` begins
its passes at least that far apart however it is woken (a nudge then ends a long sleep no sooner
than ``min_spacing`` after the last pass began).
Tests call ``run_once()`` directly instead of sleeping.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass

import structlog

log = structlog.get_logger("kiln.loop")


@dataclass(frozen=True, slots=True)
class LoopConfig:
    interval: float = 1.0
    """Seconds between passes when idle."""
    error_backoff: float = 5.0
    """Seconds to wait after a pass raised (the database may be restarting)."""
    idle_interval: float | None = None
    """Seconds to sleep after a pass that handled nothing (None: ``interval``); only for loops
    that :meth:`Loop.nudge` wakes when their work appears."""
    min_spacing: float = 0.0
    """Least seconds between the beginnings of two passes, however the loop is woken (0: none);
    for a loop whose pass costs more than the stream of wake-ups it would answer."""


class Loop:
    """Subclasses set ``name`` and implement :meth:`run_once`."""

    name = "loop"

    def __init__(self, config: LoopConfig | None = None) -> None:
        self.config = config or LoopConfig()
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._stopping = False
        self._idle = False  # the last pass handled nothing: a nudge ends the sleep
        self._nudged = False  # a nudge came since the current pass began

    async def run_once(self) -> int:
        """Do one batch of work; return how many items it handled. A return of
        :attr:`batch_size` or more means "there may be more": the loop runs again at once."""
        raise NotImplementedError

    batch_size = 1_000_000  # subclasses with batches set their own

    def wake(self) -> None:
        self._wake.set()

    @property
    def idle(self) -> bool:
        """The last pass handled nothing: the loop sleeps its idle delay, or until a nudge."""
        return self._idle

    def nudge(self) -> None:
        """Work may have appeared: run at once if idle (else the next pass finds it anyway)."""
        self._nudged = True
        if self._idle:
            self._wake.set()

    def idle_delay(self) -> float:
        """Seconds to sleep after a pass that handled nothing; loops that know when their next
        work is due shorten it."""
        return self.config.idle_interval or self.config.interval

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
            self._wake.clear()  # before the pass: a wake-up during it is not lost
            self._idle = self._nudged = False
            began = time.monotonic()
            delay = self.config.interval
            try:
                handled = await self.run_once()
                if handled >= self.batch_size:
                    delay = 0
                elif handled == 0 and self.config.idle_interval is not None:
                    self._idle = True
                    delay = 0 if self._nudged else self.idle_delay()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("loop pass failed", action="loop.error", loop=self.name)
                delay = self.config.error_backoff
            if delay:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=delay)
            spacing = began + self.config.min_spacing - time.monotonic()
            if spacing > 0 and not self._stopping:  # woken (or due) sooner than the spacing
                await asyncio.sleep(spacing)
            elif not delay:
                await asyncio.sleep(0)  # let requests run between back-to-back batches

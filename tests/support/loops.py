"""Loops for tests of the engine's idle sleeps: a reference clock made of passes, and a mixin
that counts any loop's passes."""

from __future__ import annotations

import asyncio
from typing import Any

from app.core.loop import Loop, LoopConfig
from tests.support.polling import eventually


class Ticker(Loop):
    """A reference loop that passes as often as it can: a clock made of passes."""

    name = "ticker"
    passes = 0

    async def run_once(self) -> int:
        self.passes += 1
        return 0


class CountsPasses:
    """Mixed in before a loop class: ``passes`` counts its passes."""

    passes = 0

    async def run_once(self, *args: Any, **kwargs: Any) -> int:
        self.passes += 1
        result: int = await super().run_once(*args, **kwargs)  # type: ignore[misc]
        return result


async def passes_while(ticks: int, interval: float = 0.01) -> None:
    """Let a reference loop make ``ticks`` passes (time passing, measured in passes)."""
    ticker = Ticker(LoopConfig(interval=interval))
    ticker.start()
    try:
        await eventually(lambda: asyncio.sleep(0, ticker.passes >= ticks), 30)
    finally:
        await ticker.stop()

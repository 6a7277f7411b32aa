"""A loop's ``min_spacing``: however often it is nudged, its passes begin at least that far apart
(app/core/loop.py); and the analyzer's notion of *quiet tables*, from two passes' change counts
and the ``kiln_queue`` wake-ups between them (app/engine/loops.py, ``Analyzer``). No I/O."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from app.core.loop import LoopConfig
from app.engine.loops import Analyzer
from tests.support.loops import Ticker, passes_while
from tests.support.polling import eventually

HOUR = 3600.0


async def test_a_nudge_ends_an_idle_sleep_at_once_without_spacing() -> None:
    loop = Ticker(LoopConfig(interval=HOUR, idle_interval=HOUR))
    loop.start()
    try:
        await eventually(lambda: asyncio.sleep(0, loop.idle), 30)
        loop.nudge()
        await eventually(lambda: asyncio.sleep(0, loop.passes == 2), 30)
    finally:
        await loop.stop()


async def test_nudges_do_not_start_a_pass_before_the_spacing() -> None:
    loop = Ticker(LoopConfig(interval=HOUR, idle_interval=HOUR, min_spacing=HOUR))
    loop.start()
    try:
        await eventually(lambda: asyncio.sleep(0, loop.idle), 30)
        for _ in range(50):
            loop.nudge()
            await passes_while(interval=0.001, ticks=2)
        assert loop.passes == 1
    finally:
        await loop.stop()  # also ends a spacing sleep


async def test_a_spaced_loop_still_stops() -> None:
    loop = Ticker(LoopConfig(interval=0.0, min_spacing=HOUR))
    loop.start()
    await eventually(lambda: asyncio.sleep(0, loop.passes == 1), 30)
    await asyncio.wait_for(loop.stop(), 30)


class FakeConnection:
    def __init__(self, changes: list[int]) -> None:
        self.changes = changes

    async def fetchrow(self, _query: str, *_args: Any) -> dict[str, Any]:
        return {"analyzed": [], "changes": self.changes.pop(0)}


class FakeDatabase:
    def __init__(self, *changes: int) -> None:
        self.connection = FakeConnection(list(changes))

    @contextlib.asynccontextmanager
    async def raw(self, _context: Any) -> AsyncIterator[FakeConnection]:
        yield self.connection


def analyzer(*changes: int) -> Analyzer:
    db: Any = FakeDatabase(*changes)
    return Analyzer(db, config=LoopConfig(interval=5.0, idle_interval=60.0, min_spacing=5.0))


async def test_the_first_pass_is_not_quiet() -> None:
    loop = analyzer(10)
    assert await loop.run_once() == 0
    assert not loop.quiet
    assert loop.idle_delay() == 5.0


async def test_tables_unchanged_between_two_passes_are_quiet() -> None:
    loop = analyzer(10, 10)
    await loop.run_once()
    await loop.run_once()
    assert loop.quiet
    assert loop.idle_delay() == 60.0


async def test_tables_still_changing_are_not_quiet() -> None:
    loop = analyzer(10, 10, 12)
    for _ in range(3):
        await loop.run_once()
    assert not loop.quiet
    assert loop.idle_delay() == 5.0


async def test_after_queued_work_one_more_pass_confirms_before_it_sleeps_long() -> None:
    """The statistics of the queueing transaction may reach pg_stat_user_tables after the pass
    that its ``kiln_queue`` started: that pass cannot call the tables quiet."""
    loop = analyzer(10, 10, 10, 10)
    await loop.run_once()
    await loop.run_once()
    assert loop.quiet
    loop.nudge()
    await loop.run_once()
    assert not loop.quiet
    await loop.run_once()
    assert loop.quiet

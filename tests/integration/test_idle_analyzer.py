"""Idle, the analyzer sleeps: once a pass finds the hot tables' change count where the pass before
left it, it sleeps up to its idle cap (60 s in production) until ``kiln_queue`` — sent by every
transaction that queues work — wakes it (app/engine/loops.py, ``Analyzer``).

The analyzer here sleeps up to an hour when quiet: only the wake-up can explain an ANALYZE
within the test."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from app.core.loop import LoopConfig
from app.engine.loops import Analyzer
from tests.support import api
from tests.support import protocol as p
from tests.support.loops import CountsPasses, passes_while
from tests.support.polling import eventually

HOUR = 3600.0


@pytest.fixture
def settings(settings):
    return settings.model_copy(update={"run_loops": False})


class Counting(CountsPasses, Analyzer):
    pass




@pytest.fixture
async def analyzer(app, client) -> AsyncIterator[Counting]:
    dispatcher = app.state.engine.dispatcher
    await asyncio.wait_for(dispatcher.connected.wait(), 30)
    loop = Counting(app.state.db, min_changes=1_000_000_000, fraction=0.0,
                    config=LoopConfig(interval=0.05, idle_interval=HOUR, min_spacing=0.05),
                    dispatcher=dispatcher)
    loop.start()
    try:
        yield loop
    finally:
        await loop.stop()
    assert loop.nudge not in dispatcher.wakers["kiln_queue"]


async def _analyzed(owner_db, table: str) -> int:
    return int(await owner_db.fetchval(
        "select analyze_count + autoanalyze_count from pg_stat_user_tables where relname = $1",
        table))


async def test_an_analyzer_with_quiet_tables_sleeps(analyzer):
    await eventually(lambda: asyncio.sleep(0, analyzer.quiet and analyzer.idle), 30)
    before = analyzer.passes
    await passes_while(100)  # a polling analyzer (interval 0.05) would pass again meanwhile
    assert analyzer.passes == before
    assert analyzer.idle_delay() == HOUR


async def test_queued_work_wakes_a_quiet_analyzer(app, client, owner_db, analyzer):
    account = await api.signup(client)
    key = api.bearer((await api.create_api_key(client, account))["key"])
    await p.register_workflow(client, key, {"name": "one", "tasks": [{"name": "one"}]})
    for _ in range(3):
        await p.trigger(client, key, "one")
    # The request backends report their row counts to pg_stat_user_tables within about a second.
    await eventually(lambda: owner_db.fetchval(
        "select n_mod_since_analyze >= 3 from pg_stat_user_tables"
        " where relname = 'workflow_runs'"))
    await eventually(lambda: asyncio.sleep(0, analyzer.quiet and analyzer.idle), 30)
    # Quiet and asleep for the hour: a lower threshold alone changes nothing...
    analyzer.min_changes = 3
    before = await _analyzed(owner_db, "workflow_runs")
    await passes_while(100)
    assert await _analyzed(owner_db, "workflow_runs") == before
    # ... until work is queued (kiln_queue): it looks, and analyzes the table that grew.
    passes = analyzer.passes

    async def analyzed_since() -> bool:
        return await _analyzed(owner_db, "workflow_runs") > before

    await p.trigger(client, key, "one")
    await eventually(analyzed_since, 30)
    assert analyzer.passes > passes

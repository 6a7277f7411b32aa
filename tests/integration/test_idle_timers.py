"""Idle, the cron ticker and the schedule firer sleep until their table's first due time, at most
their idle cap (30 s in production); every writer of a due time sends ``kiln_timers`` in its
transaction, which wakes them to look again (app/domain/schedules/wakeup.py). Each writer the
long cap relies on is here: creating, changing and enabling a cron, a workflow's ``on_crons``,
creating and rescheduling a one-off schedule (creating one: tests/integration/test_schedules.py,
``TestAnIdleFirer``).

Every loop here sleeps up to an hour when idle: only a wake-up can explain a new pass, and a
cron is due within a minute, so a ticker that read it sleeps until then instead of the hour."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import pytest

from app.core.loop import LoopConfig
from app.domain.schedules.firing import CronTicker, ScheduleFirer
from app.engine.dispatcher import TIMERS_CHANNEL
from tests.support import api
from tests.support import protocol as p
from tests.support.loops import CountsPasses
from tests.support.polling import eventually

UTC = dt.UTC
HOUR = 3600.0
MINUTE = 60.0


@pytest.fixture
def settings(settings):
    return settings.model_copy(update={"run_loops": False})


@pytest.fixture
async def keys(client) -> tuple[api.Account, dict[str, str]]:
    account = await api.signup(client)
    worker = api.bearer((await api.create_api_key(client, account, scopes=["worker"]))["key"])
    await p.register_workflow(client, worker, {"name": "tick", "tasks": [{"name": "t"}]})
    return account, worker


class CountingTicker(CountsPasses, CronTicker):
    pass


class CountingFirer(CountsPasses, ScheduleFirer):
    pass


@pytest.fixture
async def ticker(app, client) -> AsyncIterator[CountingTicker]:
    engine = app.state.engine
    await asyncio.wait_for(engine.dispatcher.connected.wait(), 30)
    loop = CountingTicker(engine, LoopConfig(interval=0.05, idle_interval=HOUR))
    engine.dispatcher.wakers[TIMERS_CHANNEL].append(loop.nudge)
    loop.start()
    try:
        await eventually(lambda: asyncio.sleep(0, loop.idle), 30)  # the loop's own state
        yield loop
    finally:
        engine.dispatcher.wakers[TIMERS_CHANNEL].remove(loop.nudge)
        await loop.stop()


@pytest.fixture
async def firer(app, client) -> AsyncIterator[CountingFirer]:
    engine = app.state.engine
    await asyncio.wait_for(engine.dispatcher.connected.wait(), 30)
    loop = CountingFirer(engine, LoopConfig(interval=0.05, idle_interval=HOUR))
    engine.dispatcher.wakers[TIMERS_CHANNEL].append(loop.nudge)
    loop.start()
    try:
        await eventually(lambda: asyncio.sleep(0, loop.idle), 30)
        yield loop
    finally:
        engine.dispatcher.wakers[TIMERS_CHANNEL].remove(loop.nudge)
        await loop.stop()


async def create_cron(client, account, **body: Any) -> dict[str, Any]:
    response = await client.post("/api/v1/crons", headers=account.headers,
                                 json={"workflow": "tick", "expression": "* * * * *", **body})
    assert response.status_code == 201, response.text
    cron: dict[str, Any] = response.json()
    return cron


async def asleep_for_the_hour(loop: CountingTicker | CountingFirer, passes: int) -> bool:
    """The loop passed since ``passes`` (the wake-up of a write before has been answered) and
    sleeps its cap: nothing it read is due within the hour."""
    await asyncio.sleep(0)
    return loop.passes > passes and loop.idle and loop.idle_delay() == HOUR


async def sleeps_until_a_tick(ticker: CountingTicker, passes: int) -> bool:
    """The ticker passed since ``passes`` and sleeps until a cron due within the minute."""
    await asyncio.sleep(0)
    return ticker.passes > passes and ticker.idle and ticker.idle_delay() <= MINUTE


async def test_an_idle_ticker_with_no_cron_sleeps_its_cap(ticker):
    assert ticker.idle_delay() == HOUR


async def test_a_cron_created_while_the_ticker_sleeps_is_read_at_once(client, keys, ticker):
    account, _ = keys
    before = ticker.passes
    await create_cron(client, account)  # kiln_timers
    await eventually(lambda: sleeps_until_a_tick(ticker, before), 30)


async def test_a_cron_enabled_while_the_ticker_sleeps_is_read_at_once(client, keys, ticker):
    account, _ = keys
    created = ticker.passes
    cron = await create_cron(client, account, enabled=False)
    await eventually(lambda: asleep_for_the_hour(ticker, created), 30)
    before = ticker.passes
    enabled = await client.patch(f"/api/v1/crons/{cron['id']}", headers=account.headers,
                                 json={"enabled": True})
    assert enabled.status_code == 200, enabled.text
    await eventually(lambda: sleeps_until_a_tick(ticker, before), 30)


async def test_a_cron_changed_while_the_ticker_sleeps_is_read_at_once(client, keys, ticker):
    account, _ = keys
    created = ticker.passes
    cron = await create_cron(client, account, expression="0 0 1 1 *")  # next New Year
    await eventually(lambda: asleep_for_the_hour(ticker, created), 30)
    before = ticker.passes
    changed = await client.patch(f"/api/v1/crons/{cron['id']}", headers=account.headers,
                                 json={"expression": "* * * * *"})
    assert changed.status_code == 200, changed.text
    await eventually(lambda: sleeps_until_a_tick(ticker, before), 30)


async def test_a_workflows_on_crons_registered_while_the_ticker_sleeps_are_read_at_once(
    client, keys, ticker
):
    _, worker = keys
    before = ticker.passes
    await p.register_workflow(client, worker, {"name": "minutely", "tasks": [{"name": "t"}],
                                               "on_crons": ["* * * * *"]})
    await eventually(lambda: sleeps_until_a_tick(ticker, before), 30)


async def test_a_schedule_moved_sooner_while_the_firer_sleeps_fires_at_its_new_time(
    client, keys, firer
):
    account, _ = keys
    passes = firer.passes
    created = (await client.post("/api/v1/schedules", headers=account.headers, json={
        "workflow": "tick", "at": dt.datetime(2031, 1, 1, tzinfo=UTC).isoformat()})).json()
    await eventually(lambda: asleep_for_the_hour(firer, passes), 30)
    at = dt.datetime.now(UTC) + dt.timedelta(seconds=1)
    moved = await client.patch(f"/api/v1/schedules/{created['id']}", headers=account.headers,
                               json={"at": at.isoformat()})  # kiln_timers
    assert moved.status_code == 200, moved.text

    async def fired() -> dict[str, Any] | None:
        found: dict[str, Any] = (await client.get(f"/api/v1/schedules/{created['id']}",
                                                  headers=account.headers)).json()
        return found if found["status"] == "fired" else None

    done = await eventually(fired, 30)
    assert dt.datetime.fromisoformat(done["fired_at"]) >= at

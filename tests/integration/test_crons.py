"""Crons through the real API and the real ticker, with a clock the tests control
(``run_once(now=...)``): one run per tick with two app instances racing on one database, the
missed-tick policy, DST in IANA zones, ``on_crons`` sync, and bad input."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import uuid
from typing import Any

import pytest

from app.asgi import create_app
from app.domain.schedules.firing import CronTicker
from tests.conftest import running
from tests.support import api
from tests.support import protocol as p

UTC = dt.UTC


@pytest.fixture
def settings(settings):
    return settings.model_copy(update={"run_loops": False})


@pytest.fixture
async def keys(client):
    account = await api.signup(client)
    worker = api.bearer((await api.create_api_key(client, account, scopes=["worker"]))["key"])
    await p.register_workflow(client, worker, {"name": "tick", "tasks": [{"name": "t"}]})
    return account, worker


async def create_cron(client, account, **body: Any) -> dict[str, Any]:
    response = await client.post("/api/v1/crons", headers=account.headers,
                                 json={"workflow": "tick", **body})
    assert response.status_code == 201, response.text
    cron: dict[str, Any] = response.json()
    return cron


async def fired_ticks(owner_db, cron_id: str) -> list[str]:
    rows = await owner_db.fetch(
        "select metadata->>'cron_tick' as tick from workflow_runs"
        " where metadata->>'cron_id' = $1 order by id", cron_id)
    return [r["tick"] for r in rows]


async def start_at(owner_db, cron_id: str, at: dt.datetime | None) -> None:
    """Put the cron's due row at ``at`` (None: let the ticker compute it from its clock)."""
    await owner_db.execute("update crons set next_fire_at = $2 where id = $1",
                           uuid.UUID(cron_id), at)


def iso(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value)


async def test_list_shows_the_next_fire_times(client, keys):
    account, _ = keys
    cron = await create_cron(client, account, expression="*/15 * * * *",
                             timezone="Europe/Paris", input={"n": 1})
    listed = (await client.get("/api/v1/crons", headers=account.headers)).json()["items"]
    assert [c["id"] for c in listed] == [cron["id"]]
    upcoming = [iso(t) for t in listed[0]["upcoming"]]
    assert len(upcoming) == 5
    assert upcoming[0] == iso(listed[0]["next_fire_at"])
    assert upcoming[0] > dt.datetime.now(UTC)
    assert all(b - a == dt.timedelta(minutes=15) for a, b in itertools.pairwise(upcoming))
    assert all(t.minute % 15 == 0 and t.second == 0 for t in upcoming)
    assert listed[0]["source"] == "api"


async def test_each_tick_fires_once_with_two_app_instances_racing(
    app, client, keys, settings, owner_db
):
    """Two app instances (each with its own pools and engine, as two server processes have)
    run the ticker concurrently, three passes each per clock step, on one database."""
    account, _ = keys
    cron = await create_cron(client, account, expression="* * * * *", input={"x": 1})
    first_tick = iso(cron["next_fire_at"])
    other = create_app(settings)
    async with running(other):
        tickers = [CronTicker(app.state.engine), CronTicker(other.state.engine)]
        for step in range(12):
            now = first_tick + dt.timedelta(minutes=step, seconds=1)
            handled = await asyncio.gather(*[
                ticker.run_once(now=now) for ticker in tickers for _ in range(3)])
            assert sum(handled) == 1, f"step {step}: {handled}"
    ticks = await fired_ticks(owner_db, cron["id"])
    assert [iso(t) for t in ticks] == [first_tick + dt.timedelta(minutes=m) for m in range(12)]
    after = (await client.get(f"/api/v1/crons/{cron['id']}", headers=account.headers)).json()
    assert after["fire_count"] == 12
    assert iso(after["next_fire_at"]) == first_tick + dt.timedelta(minutes=12)
    run = await p.get_run(client, account.headers, after["last_run_id"])
    assert run["input"] == {"x": 1}
    assert run["metadata"]["cron_id"] == cron["id"]


async def test_a_stopped_server_resumes_from_the_stored_due_time(
    client, keys, settings, owner_db
):
    account, _ = keys
    cron = await create_cron(client, account, expression="* * * * *")
    first_tick = iso(cron["next_fire_at"])
    for minute in range(3):  # a fresh process per tick: nothing is kept in memory
        server = create_app(settings)
        async with running(server):
            now = first_tick + dt.timedelta(minutes=minute, seconds=5)
            assert await CronTicker(server.state.engine).run_once(now=now) == 1
            assert await CronTicker(server.state.engine).run_once(now=now) == 0
    assert len(await fired_ticks(owner_db, cron["id"])) == 3


async def test_missed_ticks_run_once_by_default(app, client, keys, owner_db):
    account, _ = keys
    cron = await create_cron(client, account, expression="* * * * *")
    first_tick = iso(cron["next_fire_at"])
    ticker = CronTicker(app.state.engine)
    back = first_tick + dt.timedelta(minutes=10, seconds=20)  # down for ten minutes
    assert await ticker.run_once(now=back) == 1
    assert await ticker.run_once(now=back) == 0
    (run,) = await owner_db.fetch("select metadata->>'cron_tick' as tick,"
                                  " (metadata->'cron_missed_ticks')::int as missed"
                                  " from workflow_runs")
    assert iso(run["tick"]) == first_tick + dt.timedelta(minutes=10)
    assert run["missed"] == 10
    after = (await client.get(f"/api/v1/crons/{cron['id']}", headers=account.headers)).json()
    assert iso(after["next_fire_at"]) == first_tick + dt.timedelta(minutes=11)


async def test_missed_ticks_are_dropped_with_skip(app, client, keys, owner_db):
    account, _ = keys
    cron = await create_cron(client, account, expression="0 * * * *", missed="skip")
    first_tick = iso(cron["next_fire_at"])
    ticker = CronTicker(app.state.engine)
    assert await ticker.run_once(now=first_tick + dt.timedelta(hours=2, minutes=30)) == 1
    assert await fired_ticks(owner_db, cron["id"]) == []
    after = (await client.get(f"/api/v1/crons/{cron['id']}", headers=account.headers)).json()
    assert iso(after["next_fire_at"]) == first_tick + dt.timedelta(hours=3)
    # A tick claimed a little late (within the grace period) still fires.
    await ticker.run_once(now=first_tick + dt.timedelta(hours=3, seconds=30))
    assert [iso(t) for t in await fired_ticks(owner_db, cron["id"])] == [
        first_tick + dt.timedelta(hours=3)]


def _utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(("expression", "timezone", "start", "end", "expected"), [
    # Spring forward in New York (2026-03-08 02:00 EST → 03:00 EDT): 02:30 does not exist
    # that day, so the job runs at 03:00 EDT; the day before and after at 02:30 local.
    ("30 2 * * *", "America/New_York", _utc(2026, 3, 7), _utc(2026, 3, 9, 12),
     [_utc(2026, 3, 7, 7, 30), _utc(2026, 3, 8, 7, 0), _utc(2026, 3, 9, 6, 30)]),
    # Fall back (2026-11-01 02:00 EDT → 01:00 EST): 01:30 happens twice; it runs once.
    ("30 1 * * *", "America/New_York", _utc(2026, 10, 31), _utc(2026, 11, 2, 12),
     [_utc(2026, 10, 31, 5, 30), _utc(2026, 11, 1, 5, 30), _utc(2026, 11, 2, 6, 30)]),
    # Hourly jobs follow real time: the repeated 01:00 hour fires twice.
    ("0 * * * *", "America/New_York", _utc(2026, 11, 1, 3, 30), _utc(2026, 11, 1, 8, 30),
     [_utc(2026, 11, 1, h) for h in (4, 5, 6, 7, 8)]),
    # Europe: 2026-03-29 02:00 CET → 03:00 CEST.
    ("30 2 * * *", "Europe/Berlin", _utc(2026, 3, 28), _utc(2026, 3, 30, 12),
     [_utc(2026, 3, 28, 1, 30), _utc(2026, 3, 29, 1, 0), _utc(2026, 3, 30, 0, 30)]),
])
async def test_a_time_zone_cron_fires_at_the_right_instants_across_dst(
    app, client, keys, owner_db, expression, timezone, start, end, expected
):
    account, _ = keys
    cron = await create_cron(client, account, expression=expression, timezone=timezone)
    await start_at(owner_db, cron["id"], None)  # the ticker computes it from its clock
    ticker = CronTicker(app.state.engine)
    now = start
    while now <= end:  # a clock ticking every five minutes
        await ticker.run_once(now=now)
        now += dt.timedelta(minutes=5)
    assert [iso(t) for t in await fired_ticks(owner_db, cron["id"])] == expected


async def test_on_crons_follow_the_latest_version(app, client, keys, owner_db):
    account, worker = keys
    definition = {"name": "nightly", "tasks": [{"name": "t"}], "on_crons": ["0 3 * * *"]}
    await p.register_workflow(client, worker, definition)
    (cron,) = (await client.get("/api/v1/crons", headers=account.headers,
                                params={"workflow": "nightly"})).json()["items"]
    assert (cron["source"], cron["expression"], cron["timezone"]) == ("workflow", "0 3 * * *",
                                                                      "UTC")
    due = iso(cron["next_fire_at"])
    assert (due.hour, due.minute) == (3, 0)
    # Re-registering the same version changes nothing (the due time stays).
    await p.register_workflow(client, worker, definition)
    (same,) = (await client.get("/api/v1/crons", headers=account.headers)).json()["items"][-1:]
    assert same["id"] == cron["id"]
    assert same["next_fire_at"] == cron["next_fire_at"]

    # Only enabled may change through the API; deleting means changing the code.
    changed = await client.patch(f"/api/v1/crons/{cron['id']}", headers=account.headers,
                                 json={"expression": "0 4 * * *"})
    assert changed.status_code == 409
    assert (await client.delete(f"/api/v1/crons/{cron['id']}",
                                headers=account.headers)).status_code == 409
    disabled = await client.patch(f"/api/v1/crons/{cron['id']}", headers=account.headers,
                                  json={"enabled": False})
    assert disabled.json()["enabled"] is False
    assert disabled.json()["upcoming"] == []
    assert await CronTicker(app.state.engine).run_once(now=due + dt.timedelta(days=3)) == 0

    await p.register_workflow(client, worker, {**definition, "on_crons": ["*/10 * * * *"]})
    crons = (await client.get("/api/v1/crons", headers=account.headers,
                              params={"workflow": "nightly"})).json()["items"]
    assert [c["expression"] for c in crons] == ["*/10 * * * *"]
    assert await CronTicker(app.state.engine).run_once(
        now=iso(crons[0]["next_fire_at"])) == 1
    assert len(await fired_ticks(owner_db, crons[0]["id"])) == 1


async def test_crons_can_be_changed_disabled_and_deleted(app, client, keys, owner_db):
    account, _ = keys
    cron = await create_cron(client, account, expression="0 9 * * *", timezone="Asia/Tokyo")
    due = iso(cron["next_fire_at"])
    assert (due.hour, due.minute) == (0, 0)  # 09:00 in Tokyo is midnight UTC
    changed = (await client.patch(f"/api/v1/crons/{cron['id']}", headers=account.headers,
                                  json={"expression": "0 10 * * *", "input": {"v": 2}})).json()
    assert iso(changed["next_fire_at"]).hour == 1
    assert changed["input"] == {"v": 2}
    off = (await client.patch(f"/api/v1/crons/{cron['id']}", headers=account.headers,
                              json={"enabled": False})).json()
    assert off["next_fire_at"] is None
    ticker = CronTicker(app.state.engine)
    assert await ticker.run_once(now=due + dt.timedelta(days=2)) == 0
    deleted = await client.delete(f"/api/v1/crons/{cron['id']}", headers=account.headers)
    assert deleted.status_code == 204
    assert (await client.get(f"/api/v1/crons/{cron['id']}",
                             headers=account.headers)).status_code == 404
    assert await owner_db.fetchval("select count(*) from workflow_runs") == 0


@pytest.mark.parametrize(("body", "status", "says"), [
    ({"expression": "61 * * * *"}, 422, "invalid cron expression '61 * * * *': Bad minute"),
    ({"expression": "* * * *"}, 422, "expected 5 fields"),
    ({"expression": "0 0 0 * * *"}, 422, "expected 5 fields"),
    ({"expression": "0 0 30 2 *"}, 422, "invalid cron expression"),
    ({"expression": "* * * * *", "timezone": "Mars/Olympus"}, 422,
     "unknown time zone 'Mars/Olympus'"),
    ({"expression": "* * * * *", "timezone": "../../etc/passwd"}, 422, "unknown time zone"),
    ({"expression": "* * * * *", "workflow": "missing"}, 404, "'missing' is not registered"),
    ({"expression": "* * * * *", "missed": "all"}, 422, "missed"),
])
async def test_bad_crons_get_a_clear_4xx(client, keys, body, status, says):
    account, _ = keys
    response = await client.post("/api/v1/crons", headers=account.headers,
                                 json={"workflow": "tick", **body})
    assert response.status_code == status, response.text
    assert says in response.json()["error"]["message"]


async def test_crons_of_another_tenant_are_invisible(client, keys):
    account, _ = keys
    cron = await create_cron(client, account, expression="* * * * *")
    other = await api.signup(client, tenant_name="Other")
    assert (await client.get(f"/api/v1/crons/{cron['id']}",
                             headers=other.headers)).status_code == 404
    assert (await client.delete(f"/api/v1/crons/{cron['id']}",
                                headers=other.headers)).status_code == 404
    assert (await client.get("/api/v1/crons", headers=other.headers)).json()["items"] == []

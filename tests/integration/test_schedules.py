"""One-off schedules: fire once at their time (real loops, and a clock the tests control),
never once deleted, reschedule, list, and bad input."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import pytest

from app.asgi import create_app
from app.core.loop import LoopConfig
from app.domain.schedules.firing import ScheduleFirer
from app.engine.dispatcher import TIMERS_CHANNEL
from tests.conftest import running
from tests.support import api
from tests.support import protocol as p
from tests.support.polling import eventually

UTC = dt.UTC


async def setup(client) -> tuple[api.Account, dict[str, str]]:
    account = await api.signup(client)
    worker = api.bearer((await api.create_api_key(client, account, scopes=["worker"]))["key"])
    await p.register_workflow(client, worker, {"name": "later", "tasks": [{"name": "t"}]})
    return account, worker


async def schedule(client, account, at: dt.datetime, **body: Any) -> dict[str, Any]:
    response = await client.post("/api/v1/schedules", headers=account.headers,
                                 json={"workflow": "later", "at": at.isoformat(), **body})
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def runs_of(owner_db, schedule_id: str) -> list[Any]:
    return [r["id"] for r in await owner_db.fetch(
        "select id from workflow_runs where metadata->>'schedule_id' = $1", schedule_id)]


async def wait_for_status(client, account, schedule_id: str, status: str) -> dict[str, Any]:
    """Poll the API (bounded by the caller's ``asyncio.timeout``) until the status shows."""
    while True:
        found: dict[str, Any] = (await client.get(f"/api/v1/schedules/{schedule_id}",
                                                  headers=account.headers)).json()
        if found["status"] == status:
            return found
        await asyncio.sleep(0.05)


class TestWithTheServersLoops:
    """The loops run as in production (``run_loops`` on)."""

    async def test_a_schedule_two_seconds_ahead_fires_once(self, app, client, owner_db):
        account, _ = await setup(client)
        at = dt.datetime.now(UTC) + dt.timedelta(seconds=2)
        created = await schedule(client, account, at, input={"n": 7}, metadata={"why": "test"})
        assert created["status"] == "pending"

        async with asyncio.timeout(10):
            fired = await wait_for_status(client, account, created["id"], "fired")

        assert dt.datetime.fromisoformat(fired["fired_at"]) >= at
        run = await p.get_run(client, account.headers, fired["run_id"])
        assert run["input"] == {"n": 7}
        assert run["metadata"] == {"why": "test", "schedule_id": created["id"]}
        # Later passes (any replica, any clock) never fire it again.
        firer = ScheduleFirer(app.state.engine)
        assert await firer.run_once(now=at + dt.timedelta(days=1)) == 0
        assert [str(r) for r in await runs_of(owner_db, created["id"])] == [run["id"]]

    async def test_a_schedule_deleted_before_its_time_never_fires(self, app, client, owner_db):
        account, _ = await setup(client)
        at = dt.datetime.now(UTC) + dt.timedelta(seconds=2)
        created = await schedule(client, account, at)
        deleted = await client.delete(f"/api/v1/schedules/{created['id']}",
                                      headers=account.headers)
        assert deleted.status_code == 204
        # Rather than wait for the time to pass, run the firer with a clock far ahead of it.
        assert await ScheduleFirer(app.state.engine).run_once(
            now=at + dt.timedelta(days=365)) == 0
        assert await owner_db.fetchval("select count(*) from workflow_runs") == 0
        assert (await client.get(f"/api/v1/schedules/{created['id']}",
                                 headers=account.headers)).status_code == 404


class TestAnIdleFirer:
    """Idle, the firer sleeps until the first due schedule; a new one wakes it (kiln_timers)."""

    @pytest.fixture
    def settings(self, settings):
        return settings.model_copy(update={"run_loops": False})

    async def test_a_schedule_created_while_it_sleeps_fires_at_its_time(self, app, client):
        account, _ = await setup(client)
        # An idle sleep of an hour: only the NOTIFY of the create can make it fire in time.
        firer = ScheduleFirer(app.state.engine, LoopConfig(interval=0.5, idle_interval=3600))
        app.state.engine.dispatcher.wakers[TIMERS_CHANNEL].append(firer.nudge)
        firer.start()
        try:
            await eventually(lambda: asyncio.sleep(0, firer.idle), 30)  # the loop's own state
            at = dt.datetime.now(UTC) + dt.timedelta(seconds=1)
            created = await schedule(client, account, at)
            fired = await wait_for_status(client, account, created["id"], "fired")
        finally:
            await firer.stop()
        assert dt.datetime.fromisoformat(fired["fired_at"]) >= at


class TestWithAControlledClock:
    @pytest.fixture
    def settings(self, settings):
        return settings.model_copy(update={"run_loops": False})

    async def test_fires_at_its_time_and_only_once(self, app, client, owner_db):
        account, _ = await setup(client)
        at = dt.datetime(2031, 5, 4, 12, 0, tzinfo=UTC)
        created = await schedule(client, account, at)
        firer = ScheduleFirer(app.state.engine)
        assert await firer.run_once(now=at - dt.timedelta(seconds=1)) == 0
        assert await firer.run_once(now=at) == 1
        assert await firer.run_once(now=at + dt.timedelta(hours=1)) == 0
        assert len(await runs_of(owner_db, created["id"])) == 1
        fired = (await client.get(f"/api/v1/schedules/{created['id']}",
                                  headers=account.headers)).json()
        assert fired["status"] == "fired"
        assert dt.datetime.fromisoformat(fired["fired_at"]) == at

    async def test_reschedule_moves_the_time(self, app, client, owner_db):
        account, _ = await setup(client)
        at = dt.datetime(2031, 1, 1, tzinfo=UTC)
        created = await schedule(client, account, at)
        later = at + dt.timedelta(days=1)
        moved = await client.patch(f"/api/v1/schedules/{created['id']}",
                                   headers=account.headers,
                                   json={"at": later.isoformat(), "input": {"v": 2}})
        assert moved.status_code == 200, moved.text
        assert dt.datetime.fromisoformat(moved.json()["at"]) == later
        firer = ScheduleFirer(app.state.engine)
        assert await firer.run_once(now=at + dt.timedelta(hours=1)) == 0
        assert await firer.run_once(now=later) == 1
        again = await client.patch(f"/api/v1/schedules/{created['id']}",
                                   headers=account.headers, json={"at": at.isoformat()})
        assert again.status_code == 409
        assert "already fired" in again.json()["error"]["message"]
        run_id = (await client.get(f"/api/v1/schedules/{created['id']}",
                                   headers=account.headers)).json()["run_id"]
        assert (await p.get_run(client, account.headers, run_id))["input"] == {"v": 2}

    async def test_two_app_instances_racing_fire_each_schedule_once(
        self, app, client, settings, owner_db
    ):
        account, _ = await setup(client)
        at = dt.datetime(2031, 6, 1, tzinfo=UTC)
        created = [await schedule(client, account, at + dt.timedelta(seconds=i))
                   for i in range(30)]
        other = create_app(settings)
        async with running(other):
            firers = [ScheduleFirer(instance.state.engine, batch_size=7)
                      for instance in (app, other) for _ in range(2)]
            now = at + dt.timedelta(minutes=1)
            total = 0
            while handled := sum(await asyncio.gather(*[f.run_once(now=now) for f in firers])):
                total += handled
        assert total == 30
        counts = await owner_db.fetch(
            "select metadata->>'schedule_id' as id, count(*) as n from workflow_runs group by 1")
        assert sorted(r["id"] for r in counts) == sorted(s["id"] for s in created)
        assert {r["n"] for r in counts} == {1}

    async def test_list_filters_by_status_and_workflow(self, app, client):
        account, _ = await setup(client)
        past = dt.datetime(2020, 1, 1, tzinfo=UTC)
        future = dt.datetime(2099, 1, 1, tzinfo=UTC)
        due = await schedule(client, account, past)  # a time in the past fires at the next pass
        waiting = await schedule(client, account, future)
        await ScheduleFirer(app.state.engine).run_once()
        for status, expected in (("fired", [due]), ("pending", [waiting])):
            items = (await client.get("/api/v1/schedules", headers=account.headers,
                                      params={"status": status})).json()["items"]
            assert [s["id"] for s in items] == [s["id"] for s in expected]
        everything = (await client.get("/api/v1/schedules", headers=account.headers,
                                       params={"workflow": "later"})).json()["items"]
        assert len(everything) == 2
        other = await api.signup(client, tenant_name="Other")
        assert (await client.get("/api/v1/schedules", headers=other.headers)).json()["items"] == []
        assert (await client.delete(f"/api/v1/schedules/{waiting['id']}",
                                    headers=other.headers)).status_code == 404

    @pytest.mark.parametrize(("body", "status", "says"), [
        ({"workflow": "missing", "at": "2031-01-01T00:00:00Z"}, 404, "'missing' is not registered"),
        ({"workflow": "later", "at": "2031-01-01T00:00:00"}, 422, "UTC offset"),
        ({"workflow": "later", "at": "tomorrow"}, 422, "at"),
        ({"workflow": "later"}, 422, "at"),
    ])
    async def test_bad_schedules_get_a_clear_4xx(self, client, body, status, says):
        account, _ = await setup(client)
        response = await client.post("/api/v1/schedules", headers=account.headers, json=body)
        assert response.status_code == status, response.text
        assert says in response.json()["error"]["message"]

"""Rate limits through the worker protocol over real HTTP: every built-in strategy holds its
guarantee (checked on the database's start times), a plugin's strategy is used when named,
dynamic keys and units from expressions, visibility, and the 4xx answers."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest

from app.hooks import hookimpl
from app.hooks.types import RateLimitDecision
from tests.plugins.helpers import registered
from tests.support import api, flow
from tests.support import protocol as p
from tests.support.polling import eventually


@pytest.fixture
def settings(settings):
    return settings.model_copy(update={"run_loops": False})


@pytest.fixture
async def admin(client):
    account = await api.signup(client)
    created = await api.create_api_key(client, account, scopes=["admin"])
    return api.bearer(created["key"])


def limited(name: str, *uses: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "tasks": [{"name": "t", "rate_limits": list(uses)}]}


async def drain(client, key, worker, total: int, owner_db) -> list[float]:  # type: ignore[no-untyped-def]
    """Poll until ``total`` tasks started (finishing each at once); their database start times,
    as seconds from the first."""
    started: list[str] = []
    while len(started) < total:
        tasks = await p.poll(client, key, worker, max_tasks=total, wait=5)
        assert tasks, "a parked poll was not woken when the rate limit allowed more"
        started += [t["task_run_id"] for t in tasks]
        await flow.finish_all(client, key, worker, tasks)
    rows = await owner_db.fetch(
        "select extract(epoch from started_at)::float8 as at from task_runs"
        " where id = any($1::uuid[]) order by 1", [uuid.UUID(i) for i in started])
    times = [r["at"] for r in rows]
    return [t - times[0] for t in times]


def most_in_any_window(times: list[float], window: float) -> int:
    return max(sum(1 for u in times if t <= u < t + window) for t in times)


def hatchet_windows(times: list[float], window: float) -> list[int]:
    """Admissions per fixed window, each opened by the first start after the previous closed."""
    counts: list[int] = []
    start = None
    for t in times:
        if start is None or t >= start + window:
            start = t
            counts.append(0)
        counts[-1] += 1
    return counts


@pytest.mark.parametrize(("strategy", "config"), [
    ("fixed-window", {}), ("token-bucket", {}), ("token-bucket", {"burst": 1}),
    ("sliding-window", {}),
], ids=["fixed-window", "token-bucket", "token-bucket-burst-1", "sliding-window"])
async def test_five_per_second_over_twenty_tasks(client, admin, owner_db, strategy, config):
    put = await client.put("/api/v1/rate-limits/api", headers=admin, json={
        "limit": 5, "window": "second", "strategy": strategy, "config": config})
    assert put.status_code == 200, put.text
    await p.register_workflow(client, admin, limited("calls", {"key": "api"}))
    worker = await flow.worker(client, admin, ["calls:t"], slots=20)
    await flow.bulk(client, admin, "calls", [{"n": i} for i in range(20)])

    times = await drain(client, admin, worker, 20, owner_db)

    assert len(times) == 20
    if strategy == "token-bucket" and not config:
        # A bucket of 5 refilled at 5/s (bursts are its point): any span d admits at most
        # 5 + 5d — up to 9 within one second right after a full bucket.
        for i, a in enumerate(times):
            for j in range(i, len(times)):
                assert j - i + 1 <= 5 + 5 * (times[j] - a) + 1e-6, times
    else:
        # Never more than 5 in any one-second window of start times. For fixed-window this
        # holds here because the backlog takes each window's 5 at its opening (across a window
        # boundary it may admit up to twice the limit: its windows are checked too).
        assert most_in_any_window(times, 1.0) <= 5, times
    if strategy == "fixed-window":
        assert all(n <= 5 for n in hatchet_windows(times, 1.0)), times
    assert times[-1] >= 2.9  # 20 at 5 per second cannot take less than three seconds


async def test_a_waiting_task_says_which_limit_and_usage_is_shown(client, admin, owner_db):
    await client.put("/api/v1/rate-limits/mail", headers=admin,
                     json={"limit": 2, "window": "hour"})
    await p.register_workflow(client, admin, limited("mailer", {"key": "mail"}))
    worker = await flow.worker(client, admin, ["mailer:t"])
    ids = await flow.bulk(client, admin, "mailer", [{}] * 3)
    assert len(await p.poll(client, admin, worker, max_tasks=10)) == 2
    waiting = [t for i in ids for t in (await p.get_run(client, admin, i))["tasks"]
               if t["status"] == "queued"]
    assert len(waiting) == 1
    assert "rate limit 'mail'" in waiting[0]["waiting_for"]
    assert "2 per hour" in waiting[0]["waiting_for"]
    shown = (await client.get("/api/v1/rate-limits/mail", headers=admin)).json()
    assert shown["usage"] == {"used": 2, "remaining": 0}
    assert (shown["limit"], shown["window"], shown["strategy"]) == (2, "hour", "fixed-window")
    listed = (await client.get("/api/v1/rate-limits", headers=admin)).json()
    assert [item["key"] for item in listed["items"]] == ["mail"]


async def test_dynamic_keys_and_units_from_expressions(client, admin):
    await p.register_workflow(client, admin, limited("per_user", {
        "dynamic_key": "'user-' + input.user", "units": "input.cost", "limit": 10,
        "window": "minute"}))
    worker = await flow.worker(client, admin, ["per_user:t"], slots=20)
    await flow.bulk(client, admin, "per_user", [
        {"user": "a", "cost": 6}, {"user": "a", "cost": 6}, {"user": "b", "cost": 6},
        {"user": "b", "cost": 4}, {"user": "c", "cost": 11}])
    started = await p.poll(client, admin, worker, max_tasks=20)
    assert sorted((t["input"]["user"], t["input"]["cost"]) for t in started) == [
        ("a", 6), ("b", 4), ("b", 6)]
    items = {i["key"]: i for i in (await client.get("/api/v1/rate-limits",
                                                   headers=admin)).json()["items"]}
    assert items["user-a"]["source"] == "dynamic"
    assert items["user-a"]["usage"] == {"used": 6, "remaining": 4}
    assert items["user-b"]["usage"] == {"used": 10, "remaining": 0}


async def test_a_task_needing_more_than_the_limit_says_so(client, admin):
    await p.register_workflow(client, admin, limited("huge", {
        "key": "small", "units": 20, "limit": 10, "window": "minute"}))
    worker = await flow.worker(client, admin, ["huge:t"])
    run = await p.trigger(client, admin, "huge", {})
    assert await p.poll(client, admin, worker) == []
    task = (await p.get_run(client, admin, run["id"]))["tasks"][0]
    assert "needs 20 units, more than the limit of 10" in task["waiting_for"]


async def test_a_static_key_waits_until_it_is_set(client, admin):
    await p.register_workflow(client, admin, limited("unset", {"key": "later"}))
    worker = await flow.worker(client, admin, ["unset:t"])
    run = await p.trigger(client, admin, "unset", {})
    assert await p.poll(client, admin, worker) == []
    task = (await p.get_run(client, admin, run["id"]))["tasks"][0]
    assert "rate limit 'later' is not set" in task["waiting_for"]
    await client.put("/api/v1/rate-limits/later", headers=admin,
                     json={"limit": 1, "window": "day"})
    assert len(await p.poll(client, admin, worker)) == 1


async def test_the_api_limit_overrides_the_definition_default(client, admin):
    await p.register_workflow(client, admin, limited("defaulted", {
        "key": "shared", "limit": 1, "window": "day"}))
    worker = await flow.worker(client, admin, ["defaulted:t"], slots=10)
    await flow.bulk(client, admin, "defaulted", [{}] * 4)
    assert len(await p.poll(client, admin, worker, max_tasks=10)) == 1
    await client.put("/api/v1/rate-limits/shared", headers=admin,
                     json={"limit": 3, "window": "day"})
    assert len(await p.poll(client, admin, worker, max_tasks=10)) == 2


class AllowTwo:
    """A test strategy: two units ever, then nothing."""

    name = "test-allow-two"
    title = "Two units, ever (test)"
    config_schema: dict[str, Any] = {"type": "object"}

    def decide(self, config: Any, state: Any, now: float, cost: int) -> Any:
        used = (state or {}).get("used", 0)
        if used + cost > 2:
            return RateLimitDecision(False, 3600.0, 2 - used), {"used": used}
        return RateLimitDecision(True, 0.0, 2 - used - cost), {"used": used + cost}


class AllowTwoPlugin:
    @hookimpl
    def register_rate_limit_strategies(self) -> list[Any]:
        return [AllowTwo()]


async def test_a_plugin_strategy_is_used_when_a_limit_names_it(app, client, admin):
    with registered(app, AllowTwoPlugin()):
        listed = (await client.get("/api/v1/rate-limit-strategies", headers=admin)).json()
        assert "test-allow-two" in [s["name"] for s in listed["items"]]
        put = await client.put("/api/v1/rate-limits/two", headers=admin, json={
            "limit": 100, "window": "second", "strategy": "test-allow-two"})
        assert put.status_code == 200, put.text
        await p.register_workflow(client, admin, limited("twice", {"key": "two"}))
        worker = await flow.worker(client, admin, ["twice:t"], slots=10)
        ids = await flow.bulk(client, admin, "twice", [{}] * 5)
        assert len(await p.poll(client, admin, worker, max_tasks=10)) == 2
        assert await p.poll(client, admin, worker, max_tasks=10) == []  # 100/s would allow all
        waiting = [t["waiting_for"] for i in ids
                   for t in (await p.get_run(client, admin, i))["tasks"] if t["status"] == "queued"]
        assert len(waiting) == 3
        assert all("test-allow-two" in w for w in waiting)
    unknown = await client.put("/api/v1/rate-limits/two", headers=admin, json={
        "limit": 1, "window": "second", "strategy": "test-allow-two"})
    assert unknown.status_code == 422  # gone with its plugin


async def test_the_tenant_default_strategy_applies_to_keys_naming_none(client, admin):
    bad = await client.put("/api/v1/rate-limit-settings", headers=admin,
                           json={"default_strategy": "nope"})
    assert bad.status_code == 422
    assert "nope" in bad.json()["error"]["message"]
    good = await client.put("/api/v1/rate-limit-settings", headers=admin,
                            json={"default_strategy": "sliding-window"})
    assert good.json() == {"default_strategy": "sliding-window"}
    await client.put("/api/v1/rate-limits/k", headers=admin, json={"limit": 1, "window": "day"})
    shown = (await client.get("/api/v1/rate-limits/k", headers=admin)).json()
    assert shown["strategy"] == "sliding-window"


async def test_rate_limited_event_reaches_the_outbox_when_wanted(app, client, admin, owner_db):
    engine = app.state.engine
    engine.events = engine.events | {"rate.limited"}
    await client.put("/api/v1/rate-limits/once", headers=admin, json={"limit": 1, "window": "day"})
    await p.register_workflow(client, admin, limited("evented", {"key": "once"}))
    worker = await flow.worker(client, admin, ["evented:t"], slots=5)
    await flow.bulk(client, admin, "evented", [{}] * 2)
    assert len(await p.poll(client, admin, worker, max_tasks=5)) == 1
    assert await p.poll(client, admin, worker, max_tasks=5) == []  # reason unchanged: no repeat
    rows = await owner_db.fetch("select payload from outbox where event = 'rate.limited'")
    assert len(rows) == 1
    payload = __import__("json").loads(rows[0]["payload"])
    assert (payload["key"], payload["strategy"], payload["workflow"]) == (
        "once", "fixed-window", "evented")
    assert payload["retry_after"] > 0


@pytest.mark.parametrize(("body", "status", "words"), [
    ({"limit": -1, "window": "second"}, 422, [">= 1"]),
    ({"limit": 5, "window": "fortnight"}, 422, ["fortnight"]),
    ({"limit": 5, "window": "second", "strategy": "leaky"}, 422, ["leaky", "available"]),
    ({"limit": 5, "window": "second", "strategy": "token-bucket", "config": {"burst": 0}}, 422,
     ["burst"]),
])
async def test_bad_limits_are_refused(client, admin, body, status, words):
    response = await client.put("/api/v1/rate-limits/x", headers=admin, json=body)
    assert response.status_code == status, response.text
    for word in words:
        assert word in response.json()["error"]["message"]


@pytest.mark.parametrize(("use", "words"), [
    ({"key": "a", "dynamic_key": "input.k"}, ["exactly one of key or dynamic_key"]),
    ({}, ["exactly one of key or dynamic_key"]),
    ({"dynamic_key": "input.k"}, ["needs limit and window"]),
    ({"dynamic_key": "input.(", "limit": 1, "window": "second"}, ["input.(", "CEL"]),
    ({"key": "a", "units": "input.n +", "limit": 1, "window": "second"}, ["units", "CEL"]),
    ({"key": "a", "limit": -5, "window": "second"}, [">= 1"]),
    ({"key": "a", "limit": 5}, ["limit and window together"]),
])
async def test_bad_rate_limits_in_a_definition_are_refused(client, admin, use, words):
    response = await client.post("/api/v1/workflows", headers=admin, json=limited("bad", use))
    assert response.status_code == 422, response.text
    for word in words:
        assert word in response.json()["error"]["message"]


async def test_units_that_are_not_an_integer_refuse_the_trigger(client, admin):
    await p.register_workflow(client, admin, limited("units", {
        "key": "u", "units": "input.n", "limit": 5, "window": "second"}))
    response = await client.post("/api/v1/workflows/units/runs", headers=admin,
                                 json={"input": {"n": "three"}})
    assert response.status_code == 422
    assert "units must be an integer" in response.json()["error"]["message"]


async def test_parked_polls_across_workers_never_exceed_the_limit(client, admin, owner_db):
    """Several workers polling at once (the rows are locked while deciding)."""
    await client.put("/api/v1/rate-limits/shared", headers=admin, json={
        "limit": 4, "window": "second", "strategy": "sliding-window"})
    await p.register_workflow(client, admin, limited("many", {"key": "shared"}))
    workers = [await flow.worker(client, admin, ["many:t"], slots=3, name=f"w{i}")
               for i in range(4)]
    await flow.bulk(client, admin, "many", [{}] * 12)

    lock = asyncio.Lock()  # one connection: one query at a time

    async def all_done() -> bool:
        async with lock:
            return bool(await owner_db.fetchval(
                "select count(*) = 12 from task_runs where action = 'many:t'"
                " and status = 'succeeded'"))

    async def work(worker: str) -> None:
        while not await all_done():
            tasks = await p.poll(client, admin, worker, max_tasks=3, wait=1.5)
            await flow.finish_all(client, admin, worker, tasks)

    await asyncio.wait_for(asyncio.gather(*(work(w) for w in workers)), timeout=30)
    rows = await owner_db.fetch("select extract(epoch from started_at)::float8 as at"
                                " from task_runs where action = 'many:t' order by 1")
    assert len(rows) == 12
    assert most_in_any_window([r["at"] for r in rows], 1.0) <= 4


async def test_setting_a_limit_wakes_parked_polls(client, admin):
    await p.register_workflow(client, admin, limited("woken", {"key": "gate"}))
    worker = await flow.worker(client, admin, ["woken:t"])
    run = await p.trigger(client, admin, "woken", {})
    parked = asyncio.create_task(p.poll(client, admin, worker, wait=10))

    async def refused() -> bool:  # the poll claimed, found the key unset, and parked
        task = (await p.get_run(client, admin, run["id"]))["tasks"][0]
        return "is not set" in (task["waiting_for"] or "")

    await eventually(refused)
    assert not parked.done()
    await client.put("/api/v1/rate-limits/gate", headers=admin, json={"limit": 1, "window": "day"})
    tasks = await asyncio.wait_for(parked, timeout=5)
    assert len(tasks) == 1

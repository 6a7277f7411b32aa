"""Priority 1 to 3 (run, bulk item, workflow default) and the aging rule: each level is a 300-second
head start, so a row that waited longer than that ranks like a fresh row one level higher.
Waiting is simulated by moving a queue row's rank back, never by sleeping."""

from __future__ import annotations

import uuid

import pytest

from tests.support import flow
from tests.support import protocol as p

STEP = 300  # seconds per priority level (app/engine/sql/trigger.sql, docs/flow-control.md)


@pytest.fixture
def settings(settings):
    return settings.model_copy(update={"run_loops": False})


async def claim_order(client, key, worker, n: int) -> list[str]:  # type: ignore[no-untyped-def]
    order = []
    for _ in range(n):
        (task,) = await p.poll(client, key, worker, max_tasks=1)
        order.append(task["input"]["name"])
        await p.succeed(client, key, worker, task, {})
    return order


async def test_higher_priority_first(client, key):
    await p.register_workflow(client, key, {"name": "jobs", "tasks": [{"name": "t"}]})
    worker = await flow.worker(client, key, ["jobs:t"], slots=1)
    for name, priority in (("low", 1), ("normal", 2), ("high", 3), ("normal2", None)):
        body = {"priority": priority} if priority else {}
        run = await p.trigger(client, key, "jobs", {"name": name}, **body)
        assert run["priority"] == (priority or 2)
    assert await claim_order(client, key, worker, 4) == ["high", "normal", "normal2", "low"]


async def test_bulk_items_carry_their_own_priority(client, key):
    await p.register_workflow(client, key, {"name": "bulk", "tasks": [{"name": "t"}]})
    worker = await flow.worker(client, key, ["bulk:t"], slots=1)
    response = await client.post("/api/v1/workflows/bulk/runs/bulk", headers=key, json={"runs": [
        {"input": {"name": "a"}, "priority": 1}, {"input": {"name": "b"}},
        {"input": {"name": "c"}, "priority": 3}]})
    assert response.status_code == 201
    assert await claim_order(client, key, worker, 3) == ["c", "b", "a"]


async def test_workflow_default_priority_applies_when_a_run_names_none(client, key):
    await p.register_workflow(client, key, {"name": "urgent", "default_priority": 3,
                                            "tasks": [{"name": "t"}]})
    await p.register_workflow(client, key, {"name": "routine", "tasks": [{"name": "t"}]})
    worker = await flow.worker(client, key, ["urgent:t", "routine:t"], slots=1)
    await p.trigger(client, key, "routine", {"name": "routine"})
    defaulted = await p.trigger(client, key, "urgent", {"name": "urgent"})
    explicit = await p.trigger(client, key, "urgent", {"name": "urgent-low"}, priority=1)
    assert (defaulted["priority"], explicit["priority"]) == (3, 1)
    assert await claim_order(client, key, worker, 3) == ["urgent", "routine", "urgent-low"]


@pytest.mark.parametrize(("waited", "first"), [
    (STEP - 5, "high"),          # not yet a level up: still behind a fresh high-priority row
    (2 * STEP - 5, "high"),      # one level up (normal), still behind high
    (2 * STEP + 5, "low"),       # two levels up: ahead of a fresh high-priority row
])
async def test_aging_lets_an_old_low_priority_row_overtake(client, key, owner_db, waited, first):
    await p.register_workflow(client, key, {"name": "aging", "tasks": [{"name": "t"}]})
    worker = await flow.worker(client, key, ["aging:t"], slots=1)
    low = await p.trigger(client, key, "aging", {"name": "low"}, priority=1)
    await p.trigger(client, key, "aging", {"name": "high"}, priority=3)
    task_id = await owner_db.fetchval("select id from task_runs where run_id = $1",
                                      uuid.UUID(low["id"]))
    moved = await owner_db.execute(
        "update queue_items set rank = rank - make_interval(secs => $2) where task_run_id = $1",
        task_id, float(waited))
    assert moved == "UPDATE 1"
    assert (await claim_order(client, key, worker, 2))[0] == first


async def test_priority_orders_flow_controlled_tasks_too(client, key, owner_db):
    await p.register_workflow(client, key, {
        "name": "keyed", "tasks": [{"name": "t"}],
        "concurrency": [{"expression": "input.k", "max_runs": 10}]})
    worker = await flow.worker(client, key, ["keyed:t"], slots=1)
    await p.trigger(client, key, "keyed", {"name": "low", "k": "x"}, priority=1)
    await p.trigger(client, key, "keyed", {"name": "high", "k": "x"}, priority=3)
    assert await claim_order(client, key, worker, 2) == ["high", "low"]
    # Aging applies in the flow lane as well.
    old = await p.trigger(client, key, "keyed", {"name": "old-low", "k": "x"}, priority=1)
    await p.trigger(client, key, "keyed", {"name": "new-high", "k": "x"}, priority=3)
    moved = await owner_db.execute(
        "update flow_queue set rank = rank - make_interval(secs => $2) where run_id = $1",
        uuid.UUID(old["id"]), float(2 * STEP + 5))
    assert moved == "UPDATE 1"
    assert await claim_order(client, key, worker, 2) == ["old-low", "new-high"]


@pytest.mark.parametrize("priority", [0, 4, "high"])
async def test_priority_outside_one_to_three_is_refused(client, key, priority):
    await p.register_workflow(client, key, {"name": "bounds", "tasks": [{"name": "t"}]})
    response = await client.post("/api/v1/workflows/bounds/runs", headers=key,
                                 json={"input": {}, "priority": priority})
    assert response.status_code == 422
    registered = await client.post("/api/v1/workflows", headers=key, json={
        "name": "bounds2", "default_priority": priority, "tasks": [{"name": "t"}]})
    assert registered.status_code == 422

"""The engine through the worker protocol over real HTTP, step by step (no SDK, no loops)."""

from __future__ import annotations

import asyncio

import pytest

from tests.support import api
from tests.support import protocol as p


@pytest.fixture
def settings(settings):
    return settings.model_copy(update={"run_loops": False})


@pytest.fixture
async def worker_key(client):
    account = await api.signup(client)
    key = await api.create_api_key(client, account, scopes=["worker"])
    return api.bearer(key["key"])


async def test_diamond_runs_in_dependency_order_with_parent_outputs(client, worker_key):
    await p.register_workflow(client, worker_key, p.DIAMOND)
    worker = await p.register_worker(client, worker_key, [f"diamond:{t}" for t in "abcd"])
    run = await p.trigger(client, worker_key, "diamond", {"n": 1})
    assert run["status"] == "queued"

    first = await p.poll(client, worker_key, worker)
    assert [t["task"] for t in first] == ["a"]
    assert first[0]["input"] == {"n": 1}
    assert first[0]["attempt"] == 1
    await p.succeed(client, worker_key, worker, first[0], {"a": 1})

    middle = await p.poll(client, worker_key, worker)
    assert sorted(t["task"] for t in middle) == ["b", "c"]
    assert all(t["parents"] == {"a": {"a": 1}} for t in middle)
    for task in middle:
        await p.succeed(client, worker_key, worker, task, {task["task"]: 2})

    last = await p.poll(client, worker_key, worker)
    assert [t["task"] for t in last] == ["d"]
    assert last[0]["parents"] == {"b": {"b": 2}, "c": {"c": 2}}
    await p.succeed(client, worker_key, worker, last[0], {"sum": 4})

    done = await p.get_run(client, worker_key, run["id"])
    assert done["status"] == "succeeded"
    assert done["output"] == {"d": {"sum": 4}}
    assert {t["name"]: t["status"] for t in done["tasks"]} == dict.fromkeys("abcd", "succeeded")
    assert all(len(t["attempts"]) == 1 for t in done["tasks"])


async def test_a_stale_lease_result_is_rejected_and_changes_nothing(
    app, client, worker_key, owner_db
):
    await p.register_workflow(client, worker_key, {"name": "one", "tasks": [{"name": "one"}]})
    worker = await p.register_worker(client, worker_key, ["one:one"])
    run = await p.trigger(client, worker_key, "one")
    (task,) = await p.poll(client, worker_key, worker)
    # The lease moves on (as the sweeper does after expiry): queue it again and re-claim.
    await owner_db.execute(
        "update task_runs set lease_expires_at = now() - interval '1s' where id = $1",
        __import__("uuid").UUID(task["task_run_id"]))
    from app.db.tenancy import ENGINE
    from app.engine.queue import sweeps

    async with app.state.db.raw(ENGINE) as conn:
        assert await sweeps.expire_leases(app.state.engine.specs, conn,
                                          app.state.engine.config) == 1
    (again,) = await p.poll(client, worker_key, worker)
    assert again["attempt"] == 2
    assert again["lease_id"] != task["lease_id"]

    stale = await p.succeed(client, worker_key, worker, task, {"late": True})
    assert stale == {"accepted": [], "rejected": [task["task_run_id"]]}
    fresh = await p.succeed(client, worker_key, worker, again, {"ok": True})
    assert fresh["accepted"] == [again["task_run_id"]]
    done = await p.get_run(client, worker_key, run["id"])
    assert done["output"] == {"one": {"ok": True}}
    assert [a["status"] for a in done["tasks"][0]["attempts"]] == ["lost", "succeeded"]


async def test_failure_cancels_descendants_and_fails_the_run(client, worker_key):
    await p.register_workflow(client, worker_key, p.DIAMOND)
    worker = await p.register_worker(client, worker_key, [f"diamond:{t}" for t in "abcd"])
    run = await p.trigger(client, worker_key, "diamond")
    (a,) = await p.poll(client, worker_key, worker)
    await p.succeed(client, worker_key, worker, a, {})
    b, c = sorted(await p.poll(client, worker_key, worker), key=lambda t: t["task"])
    await p.report(client, worker_key, worker, [{
        "task_run_id": b["task_run_id"], "lease_id": b["lease_id"], "status": "failed",
        "error": "ValueError: boom", "retryable": False}])
    mid = await p.get_run(client, worker_key, run["id"])
    assert {t["name"]: t["status"] for t in mid["tasks"]}["d"] == "cancelled"
    assert mid["status"] == "running"  # c, an independent branch, still runs
    await p.succeed(client, worker_key, worker, c, {})
    done = await p.get_run(client, worker_key, run["id"])
    assert done["status"] == "failed"
    assert "b: ValueError: boom" in done["error"]


async def test_a_parked_poll_wakes_when_work_is_triggered(app, client, worker_key):
    await p.register_workflow(client, worker_key, {"name": "one", "tasks": [{"name": "one"}]})
    worker = await p.register_worker(client, worker_key, ["one:one"])
    await app.state.engine.dispatcher.connected.wait()
    parked = asyncio.create_task(p.poll(client, worker_key, worker, wait=10))
    await asyncio.sleep(0.2)  # let the poll park (it holds no connection while parked)
    assert not parked.done()
    run = await p.trigger(client, worker_key, "one")
    tasks = await asyncio.wait_for(parked, timeout=5)
    assert [t["run_id"] for t in tasks] == [run["id"]]


async def test_idempotency_key_returns_the_same_run(client, worker_key):
    await p.register_workflow(client, worker_key, {"name": "one", "tasks": [{"name": "one"}]})
    headers = {**worker_key, "Idempotency-Key": "order-7"}
    responses = await asyncio.gather(*[
        client.post("/api/v1/workflows/one/runs", json={"input": {"x": 1}}, headers=headers)
        for _ in range(20)
    ])
    assert sorted(r.status_code for r in responses) == [200] * 19 + [201]
    assert len({r.json()["id"] for r in responses}) == 1
    conflict = await client.post("/api/v1/workflows/one/runs", json={"input": {"x": 2}},
                                 headers=headers)
    assert conflict.status_code == 422
    assert "Idempotency-Key" in conflict.json()["error"]["message"]


async def test_a_known_worker_stopped_between_polls_claims_nothing(client, worker_key, owner_db):
    # The second poll of a worker skips the touch statement (its actions are cached): the claim
    # statement itself must refuse a stopped worker and leave the task queued.
    await p.register_workflow(client, worker_key, {"name": "one", "tasks": [{"name": "one"}]})
    worker = await p.register_worker(client, worker_key, ["one:one"])
    assert await p.poll(client, worker_key, worker) == []
    run = await p.trigger(client, worker_key, "one")
    (await client.delete(f"/api/v1/workers/{worker}", headers=worker_key)).raise_for_status()
    reply = await client.post(f"/api/v1/workers/{worker}/poll", headers=worker_key,
                              json={"max_tasks": 1, "wait": 0})
    assert reply.status_code == 404
    assert (await p.get_run(client, worker_key, run["id"]))["status"] == "queued"
    assert await owner_db.fetchval("select count(*) from queue_items") == 1


async def test_a_known_workers_poll_records_its_sign_of_life(client, worker_key, owner_db):
    await p.register_workflow(client, worker_key, {"name": "one", "tasks": [{"name": "one"}]})
    worker = await p.register_worker(client, worker_key, ["one:one"])
    assert await p.poll(client, worker_key, worker) == []
    # As if the sweeper had given it up: its next poll (claim statement only) revives it.
    await owner_db.execute("update workers set status = 'lost',"
                           " last_heartbeat_at = now() - interval '1 hour'")
    await p.trigger(client, worker_key, "one")
    (task,) = await p.poll(client, worker_key, worker)
    row = await owner_db.fetchrow(
        "select status, last_heartbeat_at > now() - interval '1 minute' as fresh from workers")
    assert (row["status"], row["fresh"]) == ("active", True)
    assert task["attempt"] == 1

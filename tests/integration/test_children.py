"""Child workflows spawned from a running task, over the worker protocol."""

from __future__ import annotations

from tests.support import protocol as p
from tests.support.polling import eventually


async def spawn(client, key, worker, parent, children):  # type: ignore[no-untyped-def]
    return await client.post(f"/api/v1/workers/{worker}/spawn", headers=key, json={
        "task_run_id": parent["task_run_id"], "lease_id": parent["lease_id"],
        "workflow": "child", "children": children})


async def test_fan_out_with_keys_is_not_duplicated_by_a_retried_parent(client, key, owner_db):
    await p.register_workflow(client, key, {"name": "parent",
                                            "tasks": [{"name": "fan", "retries": 1}]})
    await p.register_workflow(client, key, {"name": "child", "tasks": [{"name": "work"}]})
    worker = await p.register_worker(client, key, ["parent:fan"])
    run = await p.trigger(client, key, "parent", metadata={"team": "red"})
    (parent,) = await p.poll(client, key, worker, max_tasks=1)
    children = [{"input": {"i": i}, "key": f"child-{i}"} for i in range(50)]
    first = await spawn(client, key, worker, parent, children)
    assert first.status_code == 201, first.text
    first_ids = [r["id"] for r in first.json()["runs"]]
    assert len(set(first_ids)) == 50
    assert all(r["created"] for r in first.json()["runs"])

    # The parent fails and is retried; its second attempt spawns the same keys again.
    await p.report(client, key, worker, [{
        "task_run_id": parent["task_run_id"], "lease_id": parent["lease_id"],
        "status": "failed", "error": "flaky", "retryable": True}])
    await owner_db.execute("update task_runs set retry_at = now() where id = $1::uuid",
                           parent["task_run_id"])
    retried = await eventually(lambda: p.poll(client, key, worker, max_tasks=1, wait=1))
    assert retried[0]["attempt"] == 2
    again = await spawn(client, key, worker, retried[0], children)
    assert [r["id"] for r in again.json()["runs"]] == first_ids
    assert not any(r["created"] for r in again.json()["runs"])
    assert await owner_db.fetchval(
        "select count(*) from workflow_runs where parent_run_id = $1::uuid", run["id"]) == 50

    child = await p.get_run(client, key, first_ids[7])
    assert child["parent_run_id"] == run["id"]
    assert child["metadata"] == {"team": "red"}
    assert child["input"] == {"i": 7}


async def test_a_stale_parent_attempt_cannot_spawn(client, key):
    await p.register_workflow(client, key, {"name": "parent", "tasks": [{"name": "fan"}]})
    await p.register_workflow(client, key, {"name": "child", "tasks": [{"name": "work"}]})
    worker = await p.register_worker(client, key, ["parent:fan"])
    await p.trigger(client, key, "parent")
    (parent,) = await p.poll(client, key, worker)
    await p.succeed(client, key, worker, parent, {})
    late = await spawn(client, key, worker, parent, [{"input": {}}])
    assert late.status_code == 409


async def test_cancelling_a_parent_cancels_its_children(client, key):
    await p.register_workflow(client, key, {"name": "parent", "tasks": [{"name": "fan"}]})
    await p.register_workflow(client, key, {"name": "child", "tasks": [{"name": "work"}]})
    worker = await p.register_worker(client, key, ["parent:fan"])
    run = await p.trigger(client, key, "parent")
    (parent,) = await p.poll(client, key, worker)
    spawned = await spawn(client, key, worker, parent, [{"input": {}} for _ in range(3)])
    child_ids = [r["id"] for r in spawned.json()["runs"]]
    cancelled = await client.post(f"/api/v1/runs/{run['id']}/cancel", headers=key)
    assert cancelled.json()["status"] == "cancelled"
    for child_id in child_ids:
        assert (await p.get_run(client, key, child_id))["status"] == "cancelled"

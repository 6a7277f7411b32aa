"""Durable tasks over the worker protocol: steps logged and replayed, sleeps and event waits
that suspend the task without holding a slot, no lost wake-ups, scopes, tenants, cancellation."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.support import api
from tests.support import protocol as p
from tests.support.polling import eventually

DURABLE = {"name": "flow", "tasks": [{"name": "flow", "durable": True}]}


async def poll_one(client, key, worker, within: float = 30.0) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    tasks = await eventually(lambda: p.poll(client, key, worker, max_tasks=1, wait=1), within)
    assert len(tasks) == 1
    return tasks[0]


async def step(client, key, worker, task, seq, name, result, status=200):  # type: ignore[no-untyped-def]
    response = await client.post(f"/api/v1/workers/{worker}/durable/steps", headers=key, json={
        "task_run_id": task["task_run_id"], "lease_id": task["lease_id"], "seq": seq,
        "name": name, "result": result})
    assert response.status_code == status, response.text
    return response.json()


async def wait(client, key, worker, task, seq, name, conditions, timeout=None):  # type: ignore[no-untyped-def]  # noqa: ASYNC109
    body = {"task_run_id": task["task_run_id"], "lease_id": task["lease_id"], "seq": seq,
            "name": name, "conditions": conditions}
    if timeout is not None:
        body["timeout"] = timeout
    response = await client.post(f"/api/v1/workers/{worker}/durable/wait", headers=key,
                                 json=body)
    assert response.status_code == 200, response.text
    reply: dict[str, Any] = response.json()
    return reply


async def push(client, key, event_key, payload=None, metadata=None):  # type: ignore[no-untyped-def]
    response = await client.post("/api/v1/events", headers=key, json={
        "key": event_key, "payload": payload or {}, "metadata": metadata or {}})
    assert response.status_code == 201, response.text


async def start(client, key):  # type: ignore[no-untyped-def]
    await p.register_workflow(client, key, DURABLE)
    worker = await p.register_worker(client, key, ["flow:flow"])
    run = await p.trigger(client, key, "flow")
    return worker, run, await poll_one(client, key, worker)


async def test_a_sleep_suspends_the_task_and_resumes_it_with_its_log(client, key):
    worker, run, task = await start(client, key)
    assert task["durable_log"] == []
    assert (await step(client, key, worker, task, 1, "charge", {"id": 7}))["result"] == {"id": 7}
    reply = await wait(client, key, worker, task, 2, "sleep", {"any_of": [{"sleep_for": 1}]})
    assert reply == {"suspended": True}
    waiting = (await p.get_run(client, key, run["id"]))["tasks"][0]
    assert waiting["status"] == "pending"
    assert waiting["waiting_for"].startswith("durable sleep: sleep until ")
    assert [(d["seq"], d["kind"], d["status"]) for d in waiting["durable"]] == [
        (1, "step", "done"), (2, "sleep", "waiting")]
    # The slot is free at once: nothing else to claim, and a late result is fenced.
    late = await p.succeed(client, key, worker, task, {"too": "early"})
    assert late["rejected"] == [task["task_run_id"]]
    resumed = await poll_one(client, key, worker)
    assert resumed["attempt"] == 2
    log = resumed["durable_log"]
    assert [(e["seq"], e["kind"], e["name"]) for e in log] == [
        (1, "step", "charge"), (2, "sleep", "sleep")]
    assert log[0]["result"] == {"id": 7}
    assert log[1]["result"]["timed_out"] is False
    await p.succeed(client, key, worker, resumed, {"done": True})
    done = await p.get_run(client, key, run["id"])
    assert done["status"] == "succeeded"
    assert [a["status"] for a in done["tasks"][0]["attempts"]] == ["released", "succeeded"]


async def test_a_step_is_fenced_on_the_lease_and_kept_once_per_seq(client, key):
    worker, _, task = await start(client, key)
    await step(client, key, worker, task, 1, "a", 1)
    again = await step(client, key, worker, task, 1, "a", 2)
    assert again["result"] == 1  # the first write wins
    await step(client, key, worker, {**task, "lease_id": "00000000-0000-0000-0000-000000000000"},
               2, "b", 1, status=409)


async def test_wait_for_an_event_pushed_long_after(client, key):
    worker, run, task = await start(client, key)
    reply = await wait(client, key, worker, task, 1, "event:approved",
                       {"any_of": [{"event": "approved"}]}, timeout=3600)
    assert reply == {"suspended": True}
    waiting = (await p.get_run(client, key, run["id"]))["tasks"][0]
    assert "event 'approved'" in waiting["waiting_for"]
    assert await p.poll(client, key, worker, wait=0.3) == []
    await push(client, key, "approved", {"by": "ann"})
    resumed = await poll_one(client, key, worker)
    (entry,) = resumed["durable_log"]
    assert entry["kind"] == "wait"
    assert entry["result"]["matched"][0]["event"]["payload"] == {"by": "ann"}
    assert entry["result"]["timed_out"] is False


async def test_an_event_that_arrived_after_the_last_checkpoint_satisfies_at_once(client, key):
    worker, _, task = await start(client, key)
    await push(client, key, "paid", {"old": True})  # before the checkpoint: not for this wait
    await step(client, key, worker, task, 1, "before", None)
    await push(client, key, "paid", {"amount": 5})
    reply = await wait(client, key, worker, task, 2, "event:paid", {"any_of": [{"event": "paid"}]})
    assert reply["satisfied"] is True
    assert reply["result"]["matched"][0]["event"]["payload"] == {"amount": 5}


async def test_filters_and_scopes_and_tenants_keep_other_events_out(client, key):
    worker, run, task = await start(client, key)
    reply = await wait(client, key, worker, task, 1, "event:approved", {"any_of": [
        {"event": "approved", "scope": "order-1", "filter": "payload.ok == true"}]})
    assert reply == {"suspended": True}
    other_tenant = await api.admin_key(client)
    await push(client, other_tenant, "approved", {"ok": True}, {"scope": "order-1"})
    await push(client, key, "approved", {"ok": True}, {"scope": "order-2"})
    await push(client, key, "approved", {"ok": False}, {"scope": "order-1"})
    await push(client, key, "declined", {"ok": True}, {"scope": "order-1"})
    assert await p.poll(client, key, worker, wait=0.5) == []
    assert (await p.get_run(client, key, run["id"]))["tasks"][0]["status"] == "pending"
    await push(client, key, "approved", {"ok": True}, {"scope": "order-1"})
    resumed = await poll_one(client, key, worker)
    assert resumed["durable_log"][0]["result"]["matched"][0]["event"]["metadata"] == {
        "scope": "order-1"}


async def test_all_of_needs_every_condition_and_a_timeout_ends_the_wait(client, key):
    worker, _, task = await start(client, key)
    reply = await wait(client, key, worker, task, 1, "both", {"all_of": [
        {"event": "a"}, {"event": "b"}]}, timeout=1.5)
    assert reply == {"suspended": True}
    await push(client, key, "a")
    assert await p.poll(client, key, worker, wait=0.3) == []
    resumed = await poll_one(client, key, worker)  # the timeout fires (sweeper)
    result = resumed["durable_log"][0]["result"]
    assert result["timed_out"] is True
    assert result["matched"][0] is not None
    assert result["matched"][1] is None


async def test_cancel_while_waiting_cancels_at_once_and_no_event_revives_it(client, key):
    worker, run, task = await start(client, key)
    await wait(client, key, worker, task, 1, "event:go", {"any_of": [{"event": "go"}]})
    response = await client.post(f"/api/v1/runs/{run['id']}/cancel", headers=key)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "cancelled"
    await push(client, key, "go")
    assert await p.poll(client, key, worker, wait=0.5) == []
    assert (await p.get_run(client, key, run["id"]))["tasks"][0]["status"] == "cancelled"


async def test_no_lost_or_double_wake_ups_when_the_event_races_the_wait(client, key):
    """100 tasks: each registers a wait while its event is pushed at the same time. Every task
    is woken exactly once — satisfied at once, or suspended and queued again once."""
    await p.register_workflow(client, key, DURABLE)
    worker = await p.register_worker(client, key, ["flow:flow"], slots=1000)
    rounds, batch = 100, 10
    pending: dict[str, int] = {}  # suspended tasks -> times they were queued again

    async def woken(task: dict[str, Any]) -> None:
        assert task["task_run_id"] in pending, "a task satisfied at once was queued again"
        pending[task["task_run_id"]] += 1
        assert task["durable_log"][0]["kind"] == "wait"
        await p.succeed(client, key, worker, task, {"woken": "later"})

    for first in range(0, rounds, batch):
        runs = {(await p.trigger(client, key, "flow"))["id"] for _ in range(batch)}
        tasks: list[dict[str, Any]] = []
        while len(tasks) < batch:
            for task in await p.poll(client, key, worker, max_tasks=batch, wait=1):
                if task["run_id"] in runs:
                    tasks.append(task)
                else:
                    await woken(task)
        calls = []
        for index, task in enumerate(tasks):
            event_key = f"race-{first + index}"
            calls.append(wait(client, key, worker, task, 1, "race",
                              {"any_of": [{"event": event_key}]}))
            calls.append(push(client, key, event_key, {"n": first + index}))
        replies = (await asyncio.gather(*calls))[0::2]
        for task, reply in zip(tasks, replies, strict=True):
            if reply.get("satisfied"):
                await p.succeed(client, key, worker, task, {"woken": "at once"})
            else:
                assert reply == {"suspended": True}
                pending[task["task_run_id"]] = 0

    async def drain() -> bool:
        for task in await p.poll(client, key, worker, max_tasks=100, wait=1):
            await woken(task)
        return all(count > 0 for count in pending.values())

    await eventually(drain, within=90)
    assert all(count == 1 for count in pending.values())
    assert await p.poll(client, key, worker, max_tasks=100, wait=0.5) == []
    listed = await client.get("/api/v1/runs?workflow=flow&limit=100", headers=key)
    items = listed.json()["items"]
    assert len(items) == rounds
    assert {r["status"] for r in items} == {"succeeded"}


async def test_a_replay_starts_a_durable_task_over(client, key):
    worker, run, task = await start(client, key)
    await step(client, key, worker, task, 1, "charge", {"n": 1})
    reply = await wait(client, key, worker, task, 2, "event:go", {"any_of": [{"event": "go"}]})
    assert reply == {"suspended": True}
    await push(client, key, "go", {"round": 1})
    resumed = await poll_one(client, key, worker)
    assert [e["seq"] for e in resumed["durable_log"]] == [1, 2]
    await p.succeed(client, key, worker, resumed, {"done": 1})
    response = await client.post(f"/api/v1/runs/{run['id']}/replay", headers=key)
    assert response.status_code == 200, response.text
    again = await poll_one(client, key, worker)
    assert again["durable_log"] == []  # started over: the step runs again
    assert (await step(client, key, worker, again, 1, "charge", {"n": 2}))["result"] == {"n": 2}
    # The event of the first round is older than the replay: it does not satisfy the new wait.
    reply = await wait(client, key, worker, again, 2, "event:go", {"any_of": [{"event": "go"}]})
    assert reply == {"suspended": True}
    detail = (await p.get_run(client, key, run["id"]))["tasks"][0]
    assert [(d["seq"], d["status"]) for d in detail["durable"]] == [(1, "done"), (2, "waiting")]
    await push(client, key, "go", {"round": 2})
    last = await poll_one(client, key, worker)
    assert last["durable_log"][1]["result"]["matched"][0]["event"]["payload"] == {"round": 2}

"""Concurrency limits through the worker protocol over real HTTP: caps per key (workflow and task
level), round-robin across keys, the cancel strategies, and the errors at registration and
trigger time. The engine's loops are off: every claim is a poll the test makes."""

from __future__ import annotations

import uuid

import pytest

from app.db.tenancy import ENGINE
from app.engine.queue import sweeps
from tests.support import api, flow
from tests.support import protocol as p


@pytest.fixture
def settings(settings):
    return settings.model_copy(update={"run_loops": False})


def keyed(name: str, max_runs: int = 2, strategy: str = "GROUP_ROUND_ROBIN", **extra):  # type: ignore[no-untyped-def]
    return {"name": name, "tasks": [{"name": "t"}], "concurrency": [
        {"expression": "input.key", "max_runs": max_runs, "strategy": strategy}], **extra}


async def test_no_more_than_max_runs_per_key_while_other_keys_run(client, key, owner_db):
    await p.register_workflow(client, key, keyed("capped", max_runs=2))
    worker = await flow.worker(client, key, ["capped:t"], slots=50)
    await flow.bulk(client, key, "capped", [{"key": "a"}] * 6 + [{"key": "b"}] * 3)

    first = await p.poll(client, key, worker, max_tasks=50)
    assert sorted(t["input"]["key"] for t in first) == ["a", "a", "b", "b"]
    assert await p.poll(client, key, worker, max_tasks=50) == []  # both keys are at their cap

    finished = 4
    claimed = first
    while claimed:
        # Finish one task of each key at a time; the next poll refills exactly those slots.
        done = {t["input"]["key"]: t for t in claimed}
        await flow.finish_all(client, key, worker, list(done.values()))
        claimed = [t for t in claimed if t not in done.values()]
        more = await p.poll(client, key, worker, max_tasks=50)
        claimed += more
        finished += len(more)
        running = await flow.running_by(owner_db, "capped")
        assert all(n <= 2 for n in running.values()), running
    assert finished == 9


async def test_a_queued_run_says_which_key_it_waits_for(client, key):
    await p.register_workflow(client, key, keyed("visible", max_runs=1))
    worker = await flow.worker(client, key, ["visible:t"])
    await p.trigger(client, key, "visible", {"key": "tenant-7"})
    waiting = await p.trigger(client, key, "visible", {"key": "tenant-7"})
    assert len(await p.poll(client, key, worker)) == 1
    shown = await p.get_run(client, key, waiting["id"])
    assert shown["tasks"][0]["status"] == "queued"
    assert "concurrency" in shown["tasks"][0]["waiting_for"]
    assert "'tenant-7'" in shown["tasks"][0]["waiting_for"]


async def test_an_int_is_a_plain_cap_and_a_slot_frees_when_the_run_finishes(client, key):
    await p.register_workflow(client, key, {
        "name": "plain", "concurrency": 1,
        "tasks": [{"name": "a"}, {"name": "b", "parents": ["a"]}]})
    worker = await flow.worker(client, key, ["plain:a", "plain:b"])
    first = await p.trigger(client, key, "plain", {"n": 1})
    second = await p.trigger(client, key, "plain", {"n": 2})

    (a1,) = await p.poll(client, key, worker)
    assert a1["run_id"] == first["id"]
    await p.succeed(client, key, worker, a1, {})
    # The first run holds the slot through its DAG: its child runs, the second run waits.
    (b1,) = await p.poll(client, key, worker)
    assert (b1["run_id"], b1["task"]) == (first["id"], "b")
    assert await p.poll(client, key, worker) == []
    await p.succeed(client, key, worker, b1, {})
    (a2,) = await p.poll(client, key, worker)
    assert (a2["run_id"], a2["task"]) == (second["id"], "a")


async def test_task_level_limit_caps_one_task_not_the_workflow(client, key, owner_db):
    await p.register_workflow(client, key, {"name": "steps", "tasks": [
        {"name": "fetch"},
        {"name": "store", "parents": ["fetch"],
         "concurrency": [{"expression": "input.db", "max_runs": 1}]},
    ]})
    worker = await flow.worker(client, key, ["steps:fetch", "steps:store"], slots=20)
    await flow.bulk(client, key, "steps", [{"db": "main"}] * 3)
    fetches = await p.poll(client, key, worker, max_tasks=20)
    assert [t["task"] for t in fetches] == ["fetch"] * 3  # no limit on fetch
    await flow.finish_all(client, key, worker, fetches)
    stores = await p.poll(client, key, worker, max_tasks=20)
    assert [t["task"] for t in stores] == ["store"]  # one store per db at a time
    await flow.finish_all(client, key, worker, stores)
    assert [t["task"] for t in await p.poll(client, key, worker, max_tasks=20)] == ["store"]


async def test_round_robin_serves_keys_in_turn_not_the_oldest_backlog_first(client, key):
    await p.register_workflow(client, key, keyed("fair", max_runs=50))
    worker = await flow.worker(client, key, ["fair:t"], slots=1)
    await flow.bulk(client, key, "fair", [{"key": "a", "n": i} for i in range(20)])
    await flow.bulk(client, key, "fair", [{"key": "b", "n": i} for i in range(2)])
    order = []
    for _ in range(22):
        (task,) = await p.poll(client, key, worker, max_tasks=1)
        order.append(task["input"]["key"])
        await p.succeed(client, key, worker, task, {})
    # One claim at a time, keys alternate while both have work: b is not stuck behind a's 20.
    assert order[:4] in (["a", "b", "a", "b"], ["b", "a", "b", "a"]), order
    assert order.count("b") == 2
    assert order.index("b") < 2
    # Within a key, oldest first.
    assert order[4:] == ["a"] * 18


async def test_round_robin_batch_interleaves_keys(client, key):
    await p.register_workflow(client, key, keyed("batch", max_runs=100))
    worker = await flow.worker(client, key, ["batch:t"], slots=10)
    await flow.bulk(client, key, "batch", [{"key": "a"}] * 20)
    await flow.bulk(client, key, "batch", [{"key": "b"}] * 2)
    first = await p.poll(client, key, worker, max_tasks=10)
    assert sorted(t["input"]["key"] for t in first).count("b") == 2


async def test_cancel_in_progress_cancels_the_oldest_running_run(client, key):
    await p.register_workflow(client, key, keyed("deploy", max_runs=1,
                                                 strategy="CANCEL_IN_PROGRESS"))
    worker = await flow.worker(client, key, ["deploy:t"])
    old = await p.trigger(client, key, "deploy", {"key": "prod"})
    (task,) = await p.poll(client, key, worker)
    other = await p.trigger(client, key, "deploy", {"key": "staging"})
    new = await p.trigger(client, key, "deploy", {"key": "prod"})

    cancelled = await p.get_run(client, key, old["id"])
    assert cancelled["status"] == "cancelled"
    assert "CANCEL_IN_PROGRESS" in cancelled["error"]
    assert "'prod'" in cancelled["error"]
    assert cancelled["tasks"][0]["status"] == "cancelled"
    beat = await client.post(f"/api/v1/workers/{worker}/heartbeat", headers=key, json={
        "tasks": [{"task_run_id": task["task_run_id"], "lease_id": task["lease_id"]}]})
    assert beat.json()["cancel"] == [task["task_run_id"]]
    # The newest run of the key and the other key's run go ahead.
    started = await p.poll(client, key, worker)
    assert sorted(t["run_id"] for t in started) == sorted([new["id"], other["id"]])


async def test_cancel_newest_cancels_the_new_run_at_once(client, key, owner_db):
    await p.register_workflow(client, key, keyed("once", max_runs=2, strategy="CANCEL_NEWEST"))
    worker = await flow.worker(client, key, ["once:t"])
    ids = await flow.bulk(client, key, "once", [{"key": "k", "n": i} for i in range(5)])
    runs = [await p.get_run(client, key, i) for i in ids]
    assert [r["status"] for r in runs] == ["queued", "queued", "cancelled", "cancelled",
                                           "cancelled"]
    assert "CANCEL_NEWEST" in runs[2]["error"]
    assert "'k'" in runs[2]["error"]
    assert runs[2]["tasks"][0]["error"] == runs[2]["error"]
    # Nothing of the cancelled runs is left to claim.
    started = await p.poll(client, key, worker, max_tasks=10)
    assert sorted(t["run_id"] for t in started) == sorted(ids[:2])
    assert await owner_db.fetchval("select count(*) from flow_queue") == 0
    # A finished run frees its place: the next one is accepted.
    await flow.finish_all(client, key, worker, started)
    later = await p.trigger(client, key, "once", {"key": "k"})
    assert later["status"] == "queued"


async def test_a_retried_task_of_a_running_run_does_not_wait_behind_its_key(
    app, client, key, owner_db
):
    await p.register_workflow(client, key, {**keyed("retry", max_runs=1),
                                            "tasks": [{"name": "t", "retries": 1}]})
    worker = await flow.worker(client, key, ["retry:t"], slots=5)
    first = await p.trigger(client, key, "retry", {"key": "k"})
    await flow.bulk(client, key, "retry", [{"key": "k"}] * 20)  # a backlog behind the first
    (task,) = await p.poll(client, key, worker, max_tasks=5)
    assert task["run_id"] == first["id"]
    await p.report(client, key, worker, [{"task_run_id": task["task_run_id"],
                                          "lease_id": task["lease_id"], "status": "failed",
                                          "error": "boom", "retryable": True}])
    await owner_db.execute("update task_runs set retry_at = now() where id = $1",
                           uuid.UUID(task["task_run_id"]))
    async with app.state.db.raw(ENGINE) as conn:
        assert await sweeps.queue_due_retries(conn, app.state.engine.config) == 1
    (again,) = await p.poll(client, key, worker, max_tasks=5)
    assert (again["run_id"], again["attempt"]) == (first["id"], 2)


async def test_a_key_that_is_not_a_string_is_refused_for_that_trigger(client, key):
    await p.register_workflow(client, key, keyed("typed"))
    wrong = await client.post("/api/v1/workflows/typed/runs", headers=key,
                              json={"input": {"key": 42}})
    missing = await client.post("/api/v1/workflows/typed/runs", headers=key,
                                json={"input": {"other": "x"}})
    fine = await client.post("/api/v1/workflows/typed/runs", headers=key,
                             json={"input": {"key": "42"}})
    assert wrong.status_code == 422
    assert "input.key" in wrong.json()["error"]["message"]
    assert "int" in wrong.json()["error"]["message"]
    assert missing.status_code == 422
    assert "input.key" in missing.json()["error"]["message"]
    assert fine.status_code == 201


@pytest.mark.parametrize(("concurrency", "words"), [
    ([{"expression": "input.(", "max_runs": 1}], ["input.(", "not a valid CEL"]),
    ([{"expression": "inpt.key", "max_runs": 1}], ["inpt", "unknown variable"]),
    ([{"expression": "input.key", "max_runs": -1}], [">= 1"]),
    ([{"expression": "input.key", "max_runs": 1, "strategy": "LIFO"}], ["LIFO"]),
    (0, [">= 1"]),
])
async def test_bad_concurrency_is_refused_at_registration(client, key, concurrency, words):
    response = await client.post("/api/v1/workflows", headers=key, json={
        "name": "bad", "concurrency": concurrency, "tasks": [{"name": "t"}]})
    assert response.status_code == 422, response.text
    message = response.json()["error"]["message"]
    for word in words:
        assert word in message, message


async def test_cancel_strategies_are_workflow_level_only(client, key):
    response = await client.post("/api/v1/workflows", headers=key, json={
        "name": "bad", "tasks": [{"name": "t", "concurrency": [
            {"expression": "input.k", "max_runs": 1, "strategy": "CANCEL_NEWEST"}]}]})
    assert response.status_code == 422
    assert "workflow-level" in response.json()["error"]["message"]


async def test_concurrency_keys_list_their_holders(client, key):
    await p.register_workflow(client, key, keyed("listed", max_runs=3))
    worker = await flow.worker(client, key, ["listed:t"])
    run = await p.trigger(client, key, "listed", {"key": "x"})
    await p.poll(client, key, worker)
    listed = await client.get("/api/v1/concurrency", headers=key, params={"prefix": "listed#"})
    assert listed.status_code == 200
    [item] = listed.json()["items"]
    assert (item["key"], item["value"], item["scope"]) == ("listed#0=x", "x", "run")
    assert [h["run_id"] for h in item["holders"]] == [run["id"]]


async def test_the_flow_claim_reads_only_the_callers_tenant(client, key, owner_db):
    other = await api.signup(client, tenant_name="Other")
    other_key = api.bearer((await api.create_api_key(client, other, scopes=["admin"]))["key"])
    await p.register_workflow(client, other_key, keyed("same", max_runs=1))
    await flow.bulk(client, other_key, "same", [{"key": "k"}] * 200)
    await p.register_workflow(client, key, keyed("same", max_runs=1))
    mine = await p.trigger(client, key, "same", {"key": "k"})
    worker = await flow.worker(client, key, ["same:t"])
    (task,) = await p.poll(client, key, worker)
    assert task["run_id"] == mine["id"]
    plan = await owner_db.fetchval(
        "explain (format json) select min(group_key) from flow_queue"
        " where tenant_id = $1 and action = 'same:t' and group_key >= ''",
        uuid.UUID(other.tenant_id))
    assert "tenant_id" in str(plan)
    assert "flow_queue_claim" in str(plan)


async def test_plain_and_flow_controlled_tasks_take_turns(client, key):
    await p.register_workflow(client, key, {"name": "plain", "tasks": [{"name": "t"}]})
    await p.register_workflow(client, key, keyed("limited", max_runs=100))
    worker = await flow.worker(client, key, ["plain:t", "limited:t"], slots=1)
    await flow.bulk(client, key, "plain", [{}] * 10)
    await flow.bulk(client, key, "limited", [{"key": "k"}] * 10)
    kinds = []
    for _ in range(8):
        (task,) = await p.poll(client, key, worker, max_tasks=1)
        kinds.append(task["workflow"])
        await p.succeed(client, key, worker, task, {})
    # Neither backlog starves the other: each lane gets about every other claim.
    assert kinds.count("plain") >= 3, kinds
    assert kinds.count("limited") >= 3, kinds

"""DAG conditions over the worker protocol (docs/durable.md, "Conditions in DAGs"): wait_for,
skip_if and cancel_if with parent, sleep and event conditions and or-groups; skipped tasks and
their children; scopes and tenants; cancellation while waiting; bad conditions refused."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.support import api
from tests.support import protocol as p
from tests.support.polling import eventually


def chain(**conditions: Any) -> dict[str, Any]:
    """a → b (with ``conditions``) → c."""
    return {"name": "cond", "tasks": [
        {"name": "a"}, {"name": "b", "parents": ["a"], **conditions},
        {"name": "c", "parents": ["b"]}]}


async def setup(client, key, definition, slots=10):  # type: ignore[no-untyped-def]
    await p.register_workflow(client, key, definition)
    actions = [f"{definition['name']}:{t['name']}" for t in definition["tasks"]]
    return await p.register_worker(client, key, actions, slots=slots)


async def take(client, key, worker, name, within: float = 30.0):  # type: ignore[no-untyped-def]
    """Poll until the task ``name`` is leased (nothing else may come first)."""
    tasks = await eventually(lambda: p.poll(client, key, worker, max_tasks=1, wait=1), within)
    assert [t["task"] for t in tasks] == [name]
    return tasks[0]


async def nothing_to_claim(client, key, worker) -> bool:  # type: ignore[no-untyped-def]
    return await p.poll(client, key, worker, wait=0.3) == []


async def tasks_of(client, key, run_id) -> dict[str, dict[str, Any]]:  # type: ignore[no-untyped-def]
    return {t["name"]: t for t in (await p.get_run(client, key, run_id))["tasks"]}


async def push(client, key, event_key, payload=None, metadata=None):  # type: ignore[no-untyped-def]
    response = await client.post("/api/v1/events", headers=key, json={
        "key": event_key, "payload": payload or {}, "metadata": metadata or {}})
    assert response.status_code == 201, response.text


async def run_a(client, key, worker, output, input=None):  # type: ignore[no-untyped-def]
    run = await p.trigger(client, key, "cond", input or {})
    await p.succeed(client, key, worker, await take(client, key, worker, "a"), output)
    return run


@pytest.mark.parametrize(("flag", "skipped"), [(True, True), (False, False)])
async def test_skip_if_on_the_parent_output_decides_at_readiness(client, key, flag, skipped):
    worker = await setup(client, key, chain(skip_if=[
        {"parent": "a", "expression": "output.flag == true"}]))
    run = await run_a(client, key, worker, {"flag": flag})
    if skipped:
        child = await take(client, key, worker, "c")  # b never reaches a worker
        assert child["skipped_parents"] == ["b"]
        assert child["parents"] == {"b": None}
        assert (await tasks_of(client, key, run["id"]))["b"]["status"] == "skipped"
    else:
        b = await take(client, key, worker, "b")
        await p.succeed(client, key, worker, b, {"ran": True})
        child = await take(client, key, worker, "c")
        assert child["skipped_parents"] == []
        assert child["parents"] == {"b": {"ran": True}}
    await p.succeed(client, key, worker, child, {})
    done = await p.get_run(client, key, run["id"])
    assert done["status"] == "succeeded"  # succeeded-or-skipped tasks: the run succeeds
    assert done["output"] == {"c": {}}


async def test_wait_for_a_false_parent_condition_skips_the_task(client, key):
    worker = await setup(client, key, chain(wait_for=[
        {"parent": "a", "expression": "output.n > 10"}]))
    run = await run_a(client, key, worker, {"n": 3})
    await take(client, key, worker, "c")
    assert (await tasks_of(client, key, run["id"]))["b"]["status"] == "skipped"


async def test_wait_for_a_sleep_counts_from_readiness_without_a_queue_row(client, key):
    worker = await setup(client, key, chain(wait_for=[{"sleep_for": 1.5}]))
    run = await run_a(client, key, worker, {})
    waiting = (await tasks_of(client, key, run["id"]))["b"]
    assert waiting["status"] == "pending"
    assert waiting["waiting_for"].startswith("conditions: wait_for sleep until ")
    assert await nothing_to_claim(client, key, worker)
    await take(client, key, worker, "b")  # the durable timer sweep queued it


async def test_wait_for_an_event_matches_tenant_key_filter_and_scope(client, key):
    worker = await setup(client, key, chain(wait_for=[{
        "event": "approved", "filter": "payload.ok == true", "scope": "input.order"}]))
    run = await run_a(client, key, worker, {}, input={"order": "o-1"})
    waiting = (await tasks_of(client, key, run["id"]))["b"]
    assert waiting["waiting_for"] == (
        "conditions: wait_for event 'approved' (scope 'o-1') where payload.ok == true")
    other_tenant = await api.admin_key(client)
    await push(client, other_tenant, "approved", {"ok": True}, {"scope": "o-1"})
    await push(client, key, "approved", {"ok": True}, {"scope": "o-2"})
    await push(client, key, "approved", {"ok": False}, {"scope": "o-1"})
    await push(client, key, "approve", {"ok": True}, {"scope": "o-1"})
    assert await nothing_to_claim(client, key, worker)
    assert (await tasks_of(client, key, run["id"]))["b"]["status"] == "pending"
    await push(client, key, "approved", {"ok": True}, {"scope": "o-1"})
    await take(client, key, worker, "b")


async def test_an_event_before_readiness_does_not_count(client, key):
    worker = await setup(client, key, chain(wait_for=[{"event": "go"}]))
    run = await p.trigger(client, key, "cond", {})
    a = await take(client, key, worker, "a")
    await push(client, key, "go")  # b is not ready yet
    await p.succeed(client, key, worker, a, {})
    assert await nothing_to_claim(client, key, worker)
    assert (await tasks_of(client, key, run["id"]))["b"]["status"] == "pending"
    await push(client, key, "go")
    await take(client, key, worker, "b")


async def test_or_groups_and_the_first_gate_met_wins(client, key):
    worker = await setup(client, key, chain(
        wait_for=[{"event": "go"}],
        skip_if=[{"any_of": [{"event": "skip"}, {"sleep_for": 3600}]}]))
    run = await run_a(client, key, worker, {})
    waiting = (await tasks_of(client, key, run["id"]))["b"]["waiting_for"]
    assert waiting.startswith("conditions: skip_if (event 'skip' or sleep until ")
    assert waiting.endswith("; wait_for event 'go'")
    await push(client, key, "skip")
    await take(client, key, worker, "c")
    tasks = await tasks_of(client, key, run["id"])
    assert tasks["b"]["status"] == "skipped"
    assert tasks["b"]["waiting_for"] is None


async def test_wait_for_entries_are_all_needed(client, key):
    worker = await setup(client, key, chain(wait_for=[
        {"event": "one"}, {"any_of": [{"event": "two"}, {"event": "three"}]}]))
    run = await run_a(client, key, worker, {})
    await push(client, key, "one")
    assert await nothing_to_claim(client, key, worker)
    await push(client, key, "three")
    await take(client, key, worker, "b")
    assert (await tasks_of(client, key, run["id"]))["b"]["status"] == "running"


async def test_cancel_if_cancels_the_task_its_descendants_and_so_the_run(client, key):
    worker = await setup(client, key, chain(
        wait_for=[{"event": "go"}], cancel_if=[{"event": "abort", "scope": "input.order"}]))
    run = await run_a(client, key, worker, {}, input={"order": "o-9"})
    await push(client, key, "abort", {}, {"scope": "o-9"})
    done = await eventually(lambda: _finished(client, key, run["id"]))
    assert done["status"] == "cancelled"
    tasks = {t["name"]: t for t in done["tasks"]}
    assert tasks["b"]["status"] == "cancelled"
    assert tasks["b"]["error"] == "cancelled: cancel_if met"
    assert tasks["c"]["status"] == "cancelled"
    assert await nothing_to_claim(client, key, worker)


async def _finished(client, key, run_id):  # type: ignore[no-untyped-def]
    run = await p.get_run(client, key, run_id)
    return run if run["status"] in ("succeeded", "failed", "cancelled") else None


async def test_a_root_with_conditions_waits_from_the_trigger(client, key):
    definition = {"name": "cond", "tasks": [
        {"name": "a", "wait_for": [{"event": "start", "scope": "input.id"}]},
        {"name": "b", "parents": ["a"]}]}
    worker = await setup(client, key, definition)
    run = await p.trigger(client, key, "cond", {"id": "r1"})
    assert (await tasks_of(client, key, run["id"]))["a"]["status"] == "pending"
    assert await nothing_to_claim(client, key, worker)
    await push(client, key, "start", {}, {"scope": "r1"})
    await p.succeed(client, key, worker, await take(client, key, worker, "a"), {})
    await p.succeed(client, key, worker, await take(client, key, worker, "b"), {})
    assert (await p.get_run(client, key, run["id"]))["status"] == "succeeded"


async def test_a_skipped_root_releases_its_children_and_the_run_succeeds(client, key):
    definition = {"name": "cond", "tasks": [
        {"name": "a", "skip_if": [{"sleep_for": 0}]}, {"name": "b", "parents": ["a"]}]}
    worker = await setup(client, key, definition)
    run = await p.trigger(client, key, "cond", {})
    b = await take(client, key, worker, "b")
    assert b["skipped_parents"] == ["a"]
    await p.succeed(client, key, worker, b, {"ok": 1})
    done = await p.get_run(client, key, run["id"])
    assert done["status"] == "succeeded"
    assert [t["status"] for t in done["tasks"]] == ["skipped", "succeeded"]


async def test_a_failing_parent_expression_fails_the_task_with_its_message(client, key):
    worker = await setup(client, key, chain(skip_if=[
        {"parent": "a", "expression": "output.missing > 1"}]))
    run = await run_a(client, key, worker, {})
    done = await eventually(lambda: _finished(client, key, run["id"]))
    assert done["status"] == "failed"
    b = {t["name"]: t for t in done["tasks"]}["b"]
    assert b["status"] == "failed"
    assert b["error"].startswith("conditions: skip_if[0]: parent condition 'output.missing > 1'")


async def test_cancelling_the_run_while_a_task_waits_cancels_it_at_once(client, key):
    worker = await setup(client, key, chain(wait_for=[{"event": "go"}, {"sleep_for": 1}]))
    run = await run_a(client, key, worker, {})
    response = await client.post(f"/api/v1/runs/{run['id']}/cancel", headers=key)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "cancelled"
    await push(client, key, "go")
    assert await nothing_to_claim(client, key, worker)
    assert (await tasks_of(client, key, run["id"]))["b"]["status"] == "cancelled"


async def test_an_event_racing_readiness_is_seen_exactly_once(client, key):
    """20 runs: a's result (which makes b ready) and b's event are sent at the same time. An
    event stored before b's wait opened does not count ("after readiness"), so each b is either
    queued by its event exactly once or still waits — and then a later event starts it once."""
    worker = await setup(client, key, chain(wait_for=[{"event": "go", "scope": "input.n"}]),
                         slots=100)
    runs = [(await p.trigger(client, key, "cond", {"n": str(n)}))["id"] for n in range(20)]
    firsts: list[dict[str, Any]] = []
    while len(firsts) < len(runs):
        firsts += await p.poll(client, key, worker, max_tasks=20, wait=1)
    await asyncio.gather(*[call for a in firsts for call in (
        p.succeed(client, key, worker, a, {}),
        push(client, key, "go", {}, {"scope": str(runs.index(a["run_id"]))}))])
    started: dict[str, int] = {}

    async def claim_all() -> None:
        for task in await p.poll(client, key, worker, max_tasks=20, wait=0.3):
            assert task["task"] == "b"
            started[task["run_id"]] = started.get(task["run_id"], 0) + 1

    await claim_all()  # everything the race queued is committed, so claimable now
    late = [run_id for run_id in runs if run_id not in started]
    for run_id in late:
        assert (await tasks_of(client, key, run_id))["b"]["status"] == "pending"
        await push(client, key, "go", {}, {"scope": str(runs.index(run_id))})
    await claim_all()
    await claim_all()
    assert started == dict.fromkeys(runs, 1)


@pytest.mark.parametrize(("task", "message"), [
    ({"name": "b", "parents": ["a"], "skip_if": [{"parent": "x", "expression": "true"}]},
     "parent condition names 'x', which is not a parent of 'b'"),
    ({"name": "b", "parents": ["a"], "skip_if": [{"parent": "a", "expression": "output.("}]},
     "is not a valid CEL expression"),
    ({"name": "b", "parents": ["a"], "skip_if": [{"parent": "a", "expression": "nope > 1"}]},
     "uses unknown variable(s) nope"),
    ({"name": "b", "parents": ["a"], "wait_for": [{"event": "k", "filter": "payload.("}]},
     "is not a valid CEL expression"),
    ({"name": "b", "parents": ["a"], "wait_for": [{"event": "k", "scope": "order"}]},
     "uses unknown variable(s) order"),
    ({"name": "b", "parents": ["a"], "wait_for": [{"sleep_for": -1}]}, "sleep_for"),
    ({"name": "b", "parents": ["a"], "wait_for": [{"sleep_for": 1, "event": "k"}]},
     "exactly one of sleep_for, event or parent"),
    ({"name": "b", "parents": ["a"], "wait_for": [{"any_of": [{"any_of": [{"event": "k"}]}]}]},
     "cannot be nested"),
    ({"name": "b", "parents": ["a"], "cancel_if": [{"event": "has space"}]}, "event key"),
    ({"name": "b", "parents": ["a"], "cancel_if": [{"parent": "a"}]}, "needs an expression"),
    ({"name": "b", "parents": ["a"], "cancel_if": [{"wait": 1}]}, "wait"),
])
async def test_bad_conditions_are_refused_with_422(client, key, task, message):
    response = await client.post("/api/v1/workflows", headers=key, json={
        "name": "bad", "tasks": [{"name": "a"}, task]})
    assert response.status_code == 422, response.text
    assert message in response.text


async def test_a_replay_decides_the_conditions_again(client, key):
    worker = await setup(client, key, chain(skip_if=[
        {"parent": "a", "expression": "output.skip == true"}]))
    run = await run_a(client, key, worker, {"skip": True})
    await p.succeed(client, key, worker, await take(client, key, worker, "c"), {})
    # Replaying from below a skipped task is allowed: a skipped parent counts as finished.
    response = await client.post(f"/api/v1/runs/{run['id']}/replay", headers=key,
                                 json={"from_task": "c"})
    assert response.status_code in (200, 201), response.text
    again = await take(client, key, worker, "c")
    assert again["skipped_parents"] == ["b"]
    await p.succeed(client, key, worker, again, {})
    response = await client.post(f"/api/v1/runs/{run['id']}/replay", headers=key)
    assert response.status_code in (200, 201), response.text
    await p.succeed(client, key, worker, await take(client, key, worker, "a"), {"skip": False})
    await p.succeed(client, key, worker, await take(client, key, worker, "b"), {"ran": 1})
    await p.succeed(client, key, worker, await take(client, key, worker, "c"), {})
    done = await p.get_run(client, key, run["id"])
    assert done["status"] == "succeeded"
    assert [t["status"] for t in done["tasks"]] == ["succeeded"] * 3


async def test_a_conditioned_root_is_admitted_by_the_concurrency_strategy(client, key):
    definition = {"name": "cond", "concurrency": [
        {"expression": "input.k", "max_runs": 1, "strategy": "CANCEL_NEWEST"}],
        "tasks": [{"name": "a", "wait_for": [{"event": "go"}]}]}
    worker = await setup(client, key, definition)
    first = await p.trigger(client, key, "cond", {"k": "x"})
    second = await p.trigger(client, key, "cond", {"k": "x"})
    assert (await p.get_run(client, key, second["id"]))["status"] == "cancelled"
    await push(client, key, "go")
    a = await take(client, key, worker, "a")
    assert a["run_id"] == first["id"]


async def test_a_timer_skip_releases_a_conditioned_child_in_the_engine_transaction(client, key):
    """The sweeper (engine role, across tenants) skips `a`; its child `b` becomes ready in that
    transaction and registers its own event wait there."""
    definition = {"name": "cond", "tasks": [
        {"name": "a", "wait_for": [{"event": "never"}], "skip_if": [{"sleep_for": 1}]},
        {"name": "b", "parents": ["a"], "wait_for": [{"event": "go", "scope": "input.id"}]}]}
    worker = await setup(client, key, definition)
    run = await p.trigger(client, key, "cond", {"id": "r7"})

    async def b_waits() -> bool:
        tasks = await tasks_of(client, key, run["id"])
        waiting = tasks["b"]["waiting_for"] or ""
        return tasks["a"]["status"] == "skipped" and "event 'go' (scope 'r7')" in waiting

    await eventually(b_waits, within=30)
    await push(client, key, "go", {}, {"scope": "r7"})
    b = await take(client, key, worker, "b")
    assert b["skipped_parents"] == ["a"]


async def test_pushes_starting_runs_that_wait_on_each_others_key_do_not_deadlock(client, key,
                                                                                  owner_db):
    # ping starts on "k1" and waits for "k2"; pong the other way round. Each push locks the
    # keys it wakes and the keys its new roots wait on: taken in one sorted step, not piecemeal.
    for name, starts, waits_for in (("ping", "k1", "k2"), ("pong", "k2", "k1")):
        await p.register_workflow(client, key, {
            "name": name, "on_events": [starts],
            "tasks": [{"name": "t", "wait_for": [{"event": waits_for}]}]})
    rounds = 15
    for _ in range(rounds):
        answers = await asyncio.gather(*(
            client.post("/api/v1/events", headers=key, json={"key": k, "payload": {}})
            for k in ("k1", "k2")))
        assert [a.status_code for a in answers] == [201, 201], [a.text for a in answers]
    assert await owner_db.fetchval("select count(*) from workflow_runs") == 2 * rounds

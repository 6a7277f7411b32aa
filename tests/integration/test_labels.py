"""Worker labels and affinity through the protocol: required labels are hard, preferred labels
and soft stickiness hold a task for the preferred worker during the preference delay (simulated
by moving the queue row's enqueue time back), hard stickiness always."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from tests.support import flow
from tests.support import protocol as p

DELAY = 5.0  # EngineConfig.preference_delay


@pytest.fixture
def settings(settings):
    return settings.model_copy(update={"run_loops": False})


def labelled(name: str, **label: object) -> dict[str, object]:
    return {"name": name, "tasks": [{"name": "t", "desired_labels": {"gpu": label}}]}


async def age(owner_db, run_id: str, seconds: float) -> None:  # type: ignore[no-untyped-def]
    """As if the run's queued flow tasks had waited ``seconds`` longer."""
    await owner_db.execute(
        "update flow_queue set enqueued_at = enqueued_at - make_interval(secs => $2)"
        " where run_id = $1", uuid.UUID(run_id), seconds)


async def test_required_labels_are_hard(client, key, owner_db):
    await p.register_workflow(client, key, labelled("train", value="a100", required=True))
    cpu = await flow.worker(client, key, ["train:t"], labels={"gpu": "none"}, name="cpu")
    bare = await flow.worker(client, key, ["train:t"], name="bare")
    gpu = await flow.worker(client, key, ["train:t"], labels={"gpu": "a100"}, name="gpu")
    run = await p.trigger(client, key, "train", {})
    await age(owner_db, run["id"], 3600)  # waiting longer changes nothing for a hard label
    assert await p.poll(client, key, cpu) == []
    assert await p.poll(client, key, bare) == []
    shown = (await p.get_run(client, key, run["id"]))["tasks"][0]
    assert shown["waiting_for"] == "a worker with labels gpu=a100"
    (task,) = await p.poll(client, key, gpu)
    assert task["run_id"] == run["id"]


async def test_label_values_compare_with_their_type(client, key):
    await p.register_workflow(client, key, {"name": "typed", "tasks": [{"name": "t",
        "desired_labels": {"big": {"value": True, "required": True},
                           "mem": {"value": 64, "required": True}}}]})
    stringly = await flow.worker(client, key, ["typed:t"], labels={"big": "true", "mem": "64"})
    numeric = await flow.worker(client, key, ["typed:t"], labels={"big": 1, "mem": 64})
    typed = await flow.worker(client, key, ["typed:t"], labels={"big": True, "mem": 64.0})
    await p.trigger(client, key, "typed", {})
    assert await p.poll(client, key, stringly) == []
    assert await p.poll(client, key, numeric) == []
    assert len(await p.poll(client, key, typed)) == 1


async def test_preferred_labels_wait_for_a_matching_worker_for_a_while(client, key, owner_db):
    await p.register_workflow(client, key, labelled("render", value="a100", weight=10))
    cpu = await flow.worker(client, key, ["render:t"], labels={"gpu": "none"}, name="cpu")
    await flow.worker(client, key, ["render:t"], labels={"gpu": "a100"}, name="gpu")
    run = await p.trigger(client, key, "render", {})
    assert await p.poll(client, key, cpu) == []  # a better worker is live: leave it to it
    shown = (await p.get_run(client, key, run["id"]))["tasks"][0]
    assert shown["waiting_for"].startswith("prefers a worker with labels gpu=a100")
    await age(owner_db, run["id"], DELAY + 1)
    (task,) = await p.poll(client, key, cpu)  # waited long enough: anyone may take it
    assert task["run_id"] == run["id"]


async def test_preferred_labels_go_to_the_best_scoring_worker_first(client, key):
    await p.register_workflow(client, key, {"name": "scored", "tasks": [{"name": "t",
        "desired_labels": {"gpu": {"value": "a100", "weight": 10},
                           "region": {"value": "eu", "weight": 1}}}]})
    region = await flow.worker(client, key, ["scored:t"], labels={"region": "eu"})
    gpu = await flow.worker(client, key, ["scored:t"], labels={"gpu": "a100"})
    both = await flow.worker(client, key, ["scored:t"], labels={"gpu": "a100", "region": "eu"})
    await p.trigger(client, key, "scored", {})
    assert await p.poll(client, key, region) == []
    assert await p.poll(client, key, gpu) == []
    assert len(await p.poll(client, key, both)) == 1


async def test_without_a_matching_worker_a_preference_does_not_wait(client, key):
    await p.register_workflow(client, key, labelled("anyone", value="a100"))
    cpu = await flow.worker(client, key, ["anyone:t"], labels={"gpu": "none"})
    await p.trigger(client, key, "anyone", {})
    assert len(await p.poll(client, key, cpu)) == 1


async def test_a_parked_poll_takes_a_preferred_task_when_the_delay_ends(app, client, key):
    app.state.engine.config = __import__("dataclasses").replace(
        app.state.engine.config, preference_delay=0.5)
    await p.register_workflow(client, key, labelled("later", value="a100"))
    cpu = await flow.worker(client, key, ["later:t"], labels={"gpu": "none"})
    await flow.worker(client, key, ["later:t"], labels={"gpu": "a100"})
    await p.trigger(client, key, "later", {})
    # No notification comes when the delay ends: the poll wakes itself (the retry hint).
    assert len(await p.poll(client, key, cpu, wait=5)) == 1


def dag(name: str, sticky: str) -> dict[str, object]:
    return {"name": name, "sticky": sticky,
            "tasks": [{"name": "a"}, {"name": "b", "parents": ["a"]}]}


async def test_soft_sticky_keeps_the_run_on_its_first_worker_when_possible(
    client, key, owner_db
):
    await p.register_workflow(client, key, dag("soft", "soft"))
    first = await flow.worker(client, key, ["soft:a", "soft:b"], name="first")
    other = await flow.worker(client, key, ["soft:a", "soft:b"], name="other")
    run = await p.trigger(client, key, "soft", {})
    (a,) = await p.poll(client, key, first)
    await p.succeed(client, key, first, a, {})
    assert await p.poll(client, key, other) == []
    shown = (await p.get_run(client, key, run["id"]))["tasks"]
    assert "sticky: soft" in next(t for t in shown if t["name"] == "b")["waiting_for"]
    (b,) = await p.poll(client, key, first)
    assert b["task"] == "b"
    # When the first worker is gone, the preference lapses at once.
    run2 = await p.trigger(client, key, "soft", {})
    (a2,) = await p.poll(client, key, first)
    await p.succeed(client, key, first, a2, {})
    await client.delete(f"/api/v1/workers/{first}", headers=key)
    (b2,) = await p.poll(client, key, other)
    assert (b2["run_id"], b2["task"]) == (run2["id"], "b")


async def test_hard_sticky_never_moves_the_run(client, key, owner_db):
    await p.register_workflow(client, key, dag("hard", "hard"))
    first = await flow.worker(client, key, ["hard:a", "hard:b"], name="first")
    other = await flow.worker(client, key, ["hard:a", "hard:b"], name="other")
    run = await p.trigger(client, key, "hard", {})
    (a,) = await p.poll(client, key, first)
    await p.succeed(client, key, first, a, {})
    await age(owner_db, run["id"], 3600)
    assert await p.poll(client, key, other) == []
    (b,) = await p.poll(client, key, first)
    assert (b["run_id"], b["task"]) == (run["id"], "b")


async def test_bad_labels_and_sticky_are_refused(client, key):
    bad_sticky = await client.post("/api/v1/workflows", headers=key, json={
        "name": "x", "sticky": "always", "tasks": [{"name": "t"}]})
    bad_weight = await client.post("/api/v1/workflows", headers=key, json=labelled(
        "y", value="a", weight=-1))
    assert bad_sticky.status_code == 422
    assert "always" in bad_sticky.json()["error"]["message"]
    assert bad_weight.status_code == 422


async def test_workers_with_different_labels_claim_side_by_side(client, key):
    """Each worker leases what it may and marks the rest as waiting, at the same time: neither
    blocks on the other's rows (no deadlock, no error)."""
    await p.register_workflow(client, key, {"name": "mixed", "tasks": [{"name": "t",
        "desired_labels": {"kind": {"value": "x", "required": True}}}]})
    await p.register_workflow(client, key, {"name": "other", "tasks": [{"name": "t",
        "desired_labels": {"kind": {"value": "y", "required": True}}}]})
    x = await flow.worker(client, key, ["mixed:t", "other:t"], labels={"kind": "x"}, slots=3)
    y = await flow.worker(client, key, ["mixed:t", "other:t"], labels={"kind": "y"}, slots=3)
    await flow.bulk(client, key, "mixed", [{}] * 20)
    await flow.bulk(client, key, "other", [{}] * 20)

    async def work(worker: str, workflow: str) -> int:
        done = 0
        while done < 20:
            tasks = await p.poll(client, key, worker, max_tasks=3, wait=2)
            assert tasks, f"{workflow} tasks stopped coming"
            assert {t["workflow"] for t in tasks} == {workflow}
            await flow.finish_all(client, key, worker, tasks)
            done += len(tasks)
        return done

    assert await asyncio.gather(work(x, "mixed"), work(y, "other")) == [20, 20]

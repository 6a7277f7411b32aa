"""Retries, timeouts, on-failure tasks, cancellation and replay, through the worker protocol
over real HTTP with the engine's sweeper running."""

from __future__ import annotations

import datetime as dt
from typing import Any

from tests.support import protocol as p
from tests.support.polling import eventually


async def fail(client, key, worker, task, error="RuntimeError: boom", retryable=True):  # type: ignore[no-untyped-def]
    return await p.report(client, key, worker, [{
        "task_run_id": task["task_run_id"], "lease_id": task["lease_id"], "status": "failed",
        "error": error, "traceback": "Traceback (most recent call last): …",
        "retryable": retryable}])


async def poll_one(client, key, worker, within: float = 15.0) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    tasks = await eventually(lambda: p.poll(client, key, worker, max_tasks=1, wait=1), within)
    assert len(tasks) == 1
    return tasks[0]


def one_task(name: str, **options: Any) -> dict[str, Any]:
    return {"name": name, "tasks": [{"name": name, **options}]}


async def test_retries_keep_every_attempt_and_follow_the_backoff(client, key):
    await p.register_workflow(client, key, one_task("flaky", retries=2, backoff_factor=2.0))
    worker = await p.register_worker(client, key, ["flaky:flaky"])
    run = await p.trigger(client, key, "flaky")
    for attempt in (1, 2):
        task = await poll_one(client, key, worker)
        assert task["attempt"] == attempt
        await fail(client, key, worker, task, error=f"boom {attempt}")
        retrying = await p.get_run(client, key, run["id"])
        assert retrying["tasks"][0]["status"] == "pending"
        assert retrying["tasks"][0]["waiting_for"].startswith("retry at ")
    last = await poll_one(client, key, worker)
    assert last["attempt"] == 3
    await p.succeed(client, key, worker, last, {"ok": True})
    done = await p.get_run(client, key, run["id"])
    assert done["status"] == "succeeded"
    attempts = done["tasks"][0]["attempts"]
    assert [(a["attempt"], a["status"], a["error"]) for a in attempts] == [
        (1, "failed", "boom 1"), (2, "failed", "boom 2"), (3, "succeeded", None)]
    assert all(a["traceback"] for a in attempts[:2])
    gaps = [dt.datetime.fromisoformat(attempts[i + 1]["started_at"])
            - dt.datetime.fromisoformat(attempts[i]["finished_at"]) for i in (0, 1)]
    # backoff_factor ** (attempt - 1) seconds, with up to 20% jitter below
    assert gaps[0] >= dt.timedelta(seconds=0.8)
    assert gaps[1] >= dt.timedelta(seconds=1.6)


async def test_a_non_retryable_error_stops_at_once(client, key):
    await p.register_workflow(client, key, one_task("fatal", retries=5))
    worker = await p.register_worker(client, key, ["fatal:fatal"])
    run = await p.trigger(client, key, "fatal")
    task = await poll_one(client, key, worker)
    await fail(client, key, worker, task, error="NonRetryableError: no", retryable=False)
    done = await p.get_run(client, key, run["id"])
    assert done["status"] == "failed"
    assert len(done["tasks"][0]["attempts"]) == 1


async def test_execution_timeout_fails_the_attempt_and_tells_the_worker(client, key):
    await p.register_workflow(client, key, one_task("slow", execution_timeout=1, retries=1))
    worker = await p.register_worker(client, key, ["slow:slow"])
    run = await p.trigger(client, key, "slow")
    first = await poll_one(client, key, worker)
    held = {"tasks": [{"task_run_id": first["task_run_id"], "lease_id": first["lease_id"]}]}

    async def told_to_stop() -> bool:
        beat = await client.post(f"/api/v1/workers/{worker}/heartbeat", json=held, headers=key)
        return beat.json()["cancel"] == [first["task_run_id"]]
    await eventually(told_to_stop, 10)
    retry = await poll_one(client, key, worker)
    assert retry["attempt"] == 2
    late = await p.succeed(client, key, worker, first, {"late": True})
    assert late["rejected"] == [first["task_run_id"]]
    await p.succeed(client, key, worker, retry, {"ok": True})
    done = await p.get_run(client, key, run["id"])
    assert [a["status"] for a in done["tasks"][0]["attempts"]] == ["timed_out", "succeeded"]
    assert "execution timeout" in done["tasks"][0]["attempts"][0]["error"]


async def test_schedule_timeout_fails_the_task_and_the_run_visibly(client, key):
    await p.register_workflow(client, key, one_task("unserved", schedule_timeout=0.5))
    run = await p.trigger(client, key, "unserved")

    async def failed() -> dict[str, Any] | None:
        body = await p.get_run(client, key, run["id"])
        return body if body["status"] == "failed" else None
    done = await eventually(failed, 10)
    assert "schedule timeout" in done["tasks"][0]["error"]
    assert "schedule timeout" in done["error"]


async def test_on_failure_task_runs_once_with_the_errors_and_branches_finish(client, key):
    definition = {**p.DIAMOND, "on_failure": {"name": "alert"}}
    await p.register_workflow(client, key, definition)
    worker = await p.register_worker(client, key, [f"diamond:{t}" for t in [*"abcd", "alert"]])
    run = await p.trigger(client, key, "diamond")
    a = await poll_one(client, key, worker)
    await p.succeed(client, key, worker, a, {})
    b, c = sorted(await p.poll(client, key, worker), key=lambda t: t["task"])
    await fail(client, key, worker, b, error="ValueError: bad b", retryable=False)
    assert await p.poll(client, key, worker) == []  # on-failure waits for c to finish
    await p.succeed(client, key, worker, c, {"c": 1})
    alert = await poll_one(client, key, worker)
    assert alert["task"] == "alert"
    assert alert["errors"] == {"b": "ValueError: bad b"}
    await p.succeed(client, key, worker, alert, {"alerted": True})
    done = await p.get_run(client, key, run["id"])
    assert done["status"] == "failed"
    states = {t["name"]: t["status"] for t in done["tasks"]}
    assert states == {"a": "succeeded", "b": "failed", "c": "succeeded", "d": "cancelled",
                      "alert": "succeeded"}
    assert await p.poll(client, key, worker) == []


async def test_on_failure_task_is_skipped_when_the_run_succeeds(client, key):
    await p.register_workflow(client, key, {**one_task("fine"), "on_failure": {"name": "oops"},
                                            "on_success": {"name": "yay"}})
    worker = await p.register_worker(client, key, ["fine:fine", "fine:oops", "fine:yay"])
    run = await p.trigger(client, key, "fine")
    await p.succeed(client, key, worker, await poll_one(client, key, worker), {"v": 1})
    yay = await poll_one(client, key, worker)
    assert yay["task"] == "yay"
    await p.succeed(client, key, worker, yay, {})
    done = await p.get_run(client, key, run["id"])
    assert done["status"] == "succeeded"
    assert done["output"] == {"fine": {"v": 1}}
    assert {t["name"]: t["status"] for t in done["tasks"]}["oops"] == "cancelled"


async def test_cancel_a_queued_run_so_its_tasks_never_start(client, key):
    await p.register_workflow(client, key, p.DIAMOND)
    run = await p.trigger(client, key, "diamond")
    response = await client.post(f"/api/v1/runs/{run['id']}/cancel", headers=key)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "cancelled"
    worker = await p.register_worker(client, key, [f"diamond:{t}" for t in "abcd"])
    assert await p.poll(client, key, worker, wait=0.5) == []
    again = await client.post(f"/api/v1/runs/{run['id']}/cancel", headers=key)
    assert again.status_code == 409


async def test_cancel_a_running_task_reaches_the_worker_and_fences_its_result(client, key):
    await p.register_workflow(client, key, one_task("long"))
    worker = await p.register_worker(client, key, ["long:long"])
    run = await p.trigger(client, key, "long")
    task = await poll_one(client, key, worker)
    await client.post(f"/api/v1/runs/{run['id']}/cancel", headers=key)
    beat = await client.post(f"/api/v1/workers/{worker}/heartbeat", headers=key, json={
        "tasks": [{"task_run_id": task["task_run_id"], "lease_id": task["lease_id"]}]})
    assert beat.json()["cancel"] == [task["task_run_id"]]
    late = await p.succeed(client, key, worker, task, {"too": "late"})
    assert late["rejected"] == [task["task_run_id"]]
    done = await p.get_run(client, key, run["id"])
    assert done["status"] == "cancelled"
    assert done["tasks"][0]["output"] is None
    assert [a["status"] for a in done["tasks"][0]["attempts"]] == ["cancelled"]


async def test_bulk_cancel_by_filter(client, key):
    await p.register_workflow(client, key, one_task("many"))
    ids = [(await p.trigger(client, key, "many", metadata={"batch": "x"}))["id"]
           for _ in range(3)]
    keep = await p.trigger(client, key, "many", metadata={"batch": "y"})
    response = await client.post("/api/v1/runs/cancel", headers=key,
                                 json={"filter": {"metadata": {"batch": "x"}}})
    assert response.status_code == 200, response.text
    assert sorted(response.json()["ids"]) == sorted(ids)
    assert (await p.get_run(client, key, keep["id"]))["status"] == "queued"


async def test_replay_from_a_middle_task_reruns_it_and_its_descendants_only(client, key):
    await p.register_workflow(client, key, p.DIAMOND)
    worker = await p.register_worker(client, key, [f"diamond:{t}" for t in "abcd"])
    run = await p.trigger(client, key, "diamond")
    await p.succeed(client, key, worker, await poll_one(client, key, worker), {"a": 1})
    b, c = sorted(await p.poll(client, key, worker), key=lambda t: t["task"])
    await fail(client, key, worker, b, retryable=False)
    await p.succeed(client, key, worker, c, {"c": 1})
    assert (await p.get_run(client, key, run["id"]))["status"] == "failed"

    response = await client.post(f"/api/v1/runs/{run['id']}/replay", headers=key,
                                 json={"from_task": "b"})
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "queued"
    again = await poll_one(client, key, worker)
    assert (again["task"], again["attempt"], again["parents"]) == ("b", 2, {"a": {"a": 1}})
    await p.succeed(client, key, worker, again, {"b": 2})
    d = await poll_one(client, key, worker)
    assert d["task"] == "d"
    assert d["parents"] == {"b": {"b": 2}, "c": {"c": 1}}
    await p.succeed(client, key, worker, d, {"d": 3})
    done = await p.get_run(client, key, run["id"])
    assert done["status"] == "succeeded"
    attempts = {t["name"]: len(t["attempts"]) for t in done["tasks"]}
    assert attempts == {"a": 1, "b": 2, "c": 1, "d": 1}


async def test_a_replayed_success_keeps_its_attempt_in_the_history(client, key, owner_db):
    """A succeeded attempt is the task row itself until a replay reopens the task, which writes
    its history row first: both successes are listed, each with its worker and times."""
    await p.register_workflow(client, key, one_task("twice"))
    worker = await p.register_worker(client, key, ["twice:twice"])
    run = await p.trigger(client, key, "twice")
    await p.succeed(client, key, worker, await poll_one(client, key, worker), {"n": 1})
    first = (await p.get_run(client, key, run["id"]))["tasks"][0]
    assert [(a["attempt"], a["status"], a["worker_id"]) for a in first["attempts"]] == [
        (1, "succeeded", worker)]
    assert (first["attempts"][0]["started_at"], first["attempts"][0]["finished_at"]) == (
        first["started_at"], first["finished_at"])
    assert await owner_db.fetchval("select count(*) from task_attempts") == 0

    replayed = await client.post(f"/api/v1/runs/{run['id']}/replay", headers=key)
    assert replayed.status_code == 200, replayed.text
    await p.succeed(client, key, worker, await poll_one(client, key, worker), {"n": 2})

    done = (await p.get_run(client, key, run["id"]))["tasks"][0]
    assert [(a["attempt"], a["status"]) for a in done["attempts"]] == [
        (1, "succeeded"), (2, "succeeded")]
    assert done["attempts"][0]["finished_at"] == first["finished_at"]
    assert (dt.datetime.fromisoformat(done["attempts"][0]["finished_at"])
            <= dt.datetime.fromisoformat(done["attempts"][1]["started_at"]))


async def test_bad_options_and_replaying_a_running_run_are_clear_4xx(client, key):
    for bad in ({"retries": -1}, {"execution_timeout": 0}, {"execution_timeout": "30s"}):
        response = await client.post("/api/v1/workflows", headers=key,
                                     json=one_task("bad", **bad))
        assert response.status_code == 422, response.text
        assert response.json()["error"]["message"]
    await p.register_workflow(client, key, one_task("busy"))
    run = await p.trigger(client, key, "busy")
    replay = await client.post(f"/api/v1/runs/{run['id']}/replay", headers=key)
    assert replay.status_code == 409
    assert "only finished runs" in replay.json()["error"]["message"]
    missing = await client.post(f"/api/v1/runs/{run['id']}/replay", headers=key,
                                json={"from_task": "nope"})
    assert missing.status_code in (409, 422)

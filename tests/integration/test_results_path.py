"""The results path's one-statement forms (app/engine/sql/results.sql): a finished run's status,
output and error composed in one pass over its tasks; attempts recorded by ``finish_tasks`` with
each result's error and traceback; the change feed's notification built in SQL byte for byte as
:func:`app.engine.feed.payload` builds it."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import asyncpg
import pytest

from app.db import urls
from app.db.tenancy import TenantContext
from app.engine import feed
from app.engine.queue import results
from tests.support import protocol as p
from tests.support.polling import eventually


@pytest.fixture
def settings(settings):
    return settings.model_copy(update={"run_loops": False})


async def _setup(client, key, definition: dict[str, Any], slots: int = 20) -> str:  # type: ignore[no-untyped-def]
    await p.register_workflow(client, key, definition)
    actions = [f"{definition['name']}:{t['name']}" for t in definition["tasks"]]
    return await p.register_worker(client, key, actions, slots=slots)


async def _take(client, key, worker, names: set[str]) -> dict[str, dict[str, Any]]:  # type: ignore[no-untyped-def]
    """Poll until exactly the tasks ``names`` are leased."""
    taken: dict[str, dict[str, Any]] = {}

    async def more() -> bool:
        for task in await p.poll(client, key, worker, max_tasks=20, wait=0.5):
            taken[task["task"]] = task
        return set(taken) >= names

    await eventually(more, 30)
    assert set(taken) == names
    return taken


def _ok(task: dict[str, Any], output: Any) -> dict[str, Any]:
    return {"task_run_id": task["task_run_id"], "lease_id": task["lease_id"],
            "status": "succeeded", "output": output}


def _failed(task: dict[str, Any], error: str, traceback: str) -> dict[str, Any]:
    return {"task_run_id": task["task_run_id"], "lease_id": task["lease_id"],
            "status": "failed", "error": error, "traceback": traceback, "retryable": False}


MULTI_LEAF = {"name": "leaves", "tasks": [
    {"name": "a"},
    {"name": "s", "parents": ["a"],
     "skip_if": [{"parent": "a", "expression": "output.skip == true"}]},
    {"name": "ok"},
    {"name": "ok2", "parents": ["a"]},
    {"name": "f"},
    {"name": "g", "parents": ["f"]},
]}


async def test_a_multi_leaf_run_with_a_failed_a_cancelled_and_a_skipped_task_is_composed_once(
    client, key, owner_db
):
    worker = await _setup(client, key, MULTI_LEAF)
    run = await p.trigger(client, key, "leaves", metadata={"team": "core"})
    roots = await _take(client, key, worker, {"a", "ok", "f"})
    await p.report(client, key, worker, [_ok(roots["a"], {"skip": True})])
    middle = await _take(client, key, worker, {"ok2"})  # s is skipped, never leased
    # The last results in one batch: the run reaches zero in this statement, g is cancelled by
    # the cascade in the same transaction.
    await p.report(client, key, worker, [
        _ok(roots["ok"], {"v": 1}), _ok(middle["ok2"], [2]),
        _failed(roots["f"], "boom", "Traceback: f"),
    ])
    done = await p.get_run(client, key, run["id"])
    assert {t["name"]: t["status"] for t in done["tasks"]} == {
        "a": "succeeded", "s": "skipped", "ok": "succeeded", "ok2": "succeeded",
        "f": "failed", "g": "cancelled"}
    assert done["status"] == "failed"
    assert done["error"] == "f: boom"
    assert done["output"] == {"ok": {"v": 1}, "ok2": [2]}  # succeeded leaves only
    row = await owner_db.fetchrow(
        "select status, pending_tasks, finished_at is not null as finished, error, output"
        " from workflow_runs where id = $1", uuid.UUID(run["id"]))
    assert (row["status"], row["pending_tasks"], row["finished"]) == ("failed", 0, True)
    # The run's event is written by count_down_runs, after the batch's task events, with their
    # time and the payload write_outbox would have built.
    events = await owner_db.fetch("select event, payload from outbox order by id")
    assert [e["event"] for e in events] == ["task.failed", "run.failed"]
    task_event, run_event = (json.loads(e["payload"]) for e in events)
    assert run_event == {
        "event": "run.failed", "run_id": run["id"], "workflow": "leaves", "status": "failed",
        "error": "f: boom", "metadata": {"team": "core"}, "at": task_event["at"]}


async def test_a_run_with_a_skipped_leaf_and_no_failure_succeeds_with_its_leaves_output(
    client, key, owner_db
):
    worker = await _setup(client, key, {"name": "leaves", "tasks": MULTI_LEAF["tasks"][:4]})
    run = await p.trigger(client, key, "leaves")
    roots = await _take(client, key, worker, {"a", "ok"})
    await p.report(client, key, worker, [_ok(roots["a"], {"skip": True})])
    middle = await _take(client, key, worker, {"ok2"})
    unfinished = await owner_db.fetchrow(
        "select status, pending_tasks, output, error from workflow_runs where id = $1",
        uuid.UUID(run["id"]))
    assert (unfinished["status"], unfinished["pending_tasks"]) == ("running", 2)
    assert unfinished["output"] is None
    assert unfinished["error"] is None
    await p.report(client, key, worker, [_ok(middle["ok2"], None)])
    still = await p.get_run(client, key, run["id"])
    assert still["status"] == "running"
    assert still["output"] is None
    await p.report(client, key, worker, [_ok(roots["ok"], "done")])
    done = await p.get_run(client, key, run["id"])
    assert done["status"] == "succeeded"
    assert done["error"] is None
    assert done["output"] == {"ok": "done", "ok2": None}


async def test_errors_of_several_failed_tasks_are_joined_in_finishing_order(client, key):
    worker = await _setup(client, key, {"name": "two", "tasks": [
        {"name": "x"}, {"name": "y"}, {"name": "z"}]})
    run = await p.trigger(client, key, "two")
    tasks = await _take(client, key, worker, {"x", "y", "z"})
    await p.report(client, key, worker, [_failed(tasks["y"], "first", "tb")])
    await p.report(client, key, worker, [_failed(tasks["x"], "second", "tb")])
    await p.report(client, key, worker, [_ok(tasks["z"], 1)])
    done = await p.get_run(client, key, run["id"])
    assert done["status"] == "failed"
    assert done["error"] == "y: first; x: second"
    assert done["output"] == {"z": 1}


async def test_finished_attempts_carry_the_results_error_and_traceback(client, key, owner_db):
    worker = await _setup(client, key, {"name": "att", "tasks": [
        {"name": "ok"}, {"name": "bad"}, {"name": "again", "retries": 2}, {"name": "back"}]})
    await p.trigger(client, key, "att")
    tasks = await _take(client, key, worker, {"ok", "bad", "again", "back"})
    answer = await p.report(client, key, worker, [
        _ok(tasks["ok"], 1), _failed(tasks["bad"], "bad input", "Traceback (most recent)\n  x"),
        {**_failed(tasks["again"], "flaky", "tb again"), "retryable": True},
        {"task_run_id": tasks["back"]["task_run_id"], "lease_id": tasks["back"]["lease_id"],
         "status": "released"},
    ])
    assert len(answer["accepted"]) == 4
    assert answer["rejected"] == []
    late = await p.report(client, key, worker, [_failed(tasks["ok"], "late", "no row for me")])
    assert late["rejected"] == [tasks["ok"]["task_run_id"]]  # no longer running: no attempt row
    rows = await owner_db.fetch(
        "select t.task_name, a.attempt, a.status, a.error, a.traceback, a.worker_id,"
        " a.started_at = t.started_at as same_start, a.run_id = t.run_id as same_run"
        " from task_attempts a join task_runs t on t.tenant_id = a.tenant_id"
        " and t.id = a.task_run_id order by t.task_name")
    assert [tuple(r)[:5] for r in rows] == [  # a success is the task row itself
        ("again", 1, "failed", "flaky", "tb again"),
        ("back", 1, "released", None, None),
        ("bad", 1, "failed", "bad input", "Traceback (most recent)\n  x"),
    ]
    assert all(r["worker_id"] == uuid.UUID(worker) and r["same_start"] and r["same_run"]
               for r in rows)
    statuses = dict(await owner_db.fetch("select task_name, status from task_runs"))
    assert statuses == {"ok": "succeeded", "bad": "failed", "again": "pending", "back": "queued"}


@pytest.mark.parametrize("runs", [1, 3, feed.MAX_IDS, feed.MAX_IDS + 1])
async def test_the_feed_notification_of_a_results_batch_is_what_feed_payload_builds(
    app, client, key, account, database_url, runs
):
    worker = await _setup(client, key, {"name": "one", "tasks": [{"name": "t"}]}, slots=500)
    response = await client.post("/api/v1/workflows/one/runs/bulk", headers=key,
                                 json={"runs": [{} for _ in range(runs)]})
    assert response.status_code == 201, response.text
    engine = app.state.engine
    tenant = uuid.UUID(account.tenant_id)
    claimed: list[Any] = []
    while len(claimed) < runs:
        claimed += await engine.poll(tenant, uuid.UUID(worker), 20, 0)
    received: list[str] = []
    listener = await asyncpg.connect(urls.asyncpg_dsn(urls.owner_url(database_url)))
    try:
        await listener.add_listener(feed.CHANNEL, lambda *args: received.append(args[3]))
        batch = [results.Result(t.task_run_id, t.lease_id, "succeeded", "null") for t in claimed]
        async with engine.db.raw(TenantContext(tenant)) as conn:
            accepted, rejected = await results.complete(
                engine.specs, conn, tenant, uuid.UUID(worker), batch, engine.events)
        assert len(accepted) == runs
        assert rejected == []
        expected = feed.payload(tenant, [str(t.run_id) for t in claimed])
        await eventually(lambda: asyncio.sleep(0, result=bool(received)), 10)
        assert received == [expected]
        if runs > feed.MAX_IDS:
            assert '"runs":null' in expected
        # a batch whose every result is stale notifies nothing
        received.clear()
        async with engine.db.raw(TenantContext(tenant)) as conn:
            accepted, rejected = await results.complete(
                engine.specs, conn, tenant, uuid.UUID(worker), batch, engine.events)
        assert accepted == []
        assert len(rejected) == runs
        await asyncio.sleep(0.2)
        assert received == []
    finally:
        await listener.close()


SCANNED = """
select r.id, r.status, r.output, r.error,
  (select case when bool_or(t.status = 'failed') then 'failed'
               when bool_or(t.status = 'cancelled') then 'cancelled' else 'succeeded' end
   from task_runs t where t.run_id = r.id and t.kind = 'task') as scan_status,
  (select jsonb_object_agg(t.task_name, t.output) from task_runs t
   where t.run_id = r.id and t.is_leaf and t.status = 'succeeded') as scan_output,
  (select string_agg(t.task_name || ': ' || t.error, '; ' order by t.finished_at)
   from task_runs t where t.run_id = r.id and t.status = 'failed' and t.kind = 'task')
    as scan_error
from workflow_runs r where r.finished_at is not null
"""
"""Every finished run against the three-pass form count_down_runs had before."""


async def _as_scanned(owner_db: asyncpg.Connection) -> int:
    rows = await owner_db.fetch(SCANNED)
    for row in rows:
        assert (row["status"], row["output"], row["error"]) == (
            row["scan_status"], row["scan_output"], row["scan_error"]), dict(row)
    return len(rows)


async def test_single_task_runs_finished_without_a_pass_match_their_tasks(
    app, client, key, account, owner_db
):
    worker = await _setup(client, key, {"name": "one", "tasks": [{"name": "t"}]}, slots=50)
    await _setup(client, key, {"name": "guarded", "tasks": [{"name": "t"}],
                               "on_failure": {"name": "cleanup"}})
    outputs: list[Any] = [{"a": [1, {"b": None}]}, None, [1, 2], "text", 0, {}]
    response = await client.post("/api/v1/workflows/one/runs/bulk", headers=key,
                                 json={"runs": [{} for _ in outputs]})
    assert response.status_code == 201, response.text
    guarded = await p.trigger(client, key, "guarded")
    engine = app.state.engine
    tenant, worker_id = uuid.UUID(account.tenant_id), uuid.UUID(worker)
    claimed = await engine.poll(tenant, worker_id, 50, 0)
    plain = [t for t in claimed if t.workflow == "one"]
    assert len(plain) == len(outputs)
    assert [t.workflow for t in claimed if t.workflow != "one"] == []  # other worker's action
    batch = [results.Result(t.task_run_id, t.lease_id, "succeeded",
                            json.dumps(output) if output is not None else None)
             for t, output in zip(plain, outputs, strict=True)]
    async with engine.db.raw(TenantContext(tenant)) as conn:
        await results.complete(engine.specs, conn, tenant, worker_id, batch, engine.events)
    runs = {r["id"]: r for r in await owner_db.fetch(
        "select id, status, output, error, pending_tasks from workflow_runs"
        " where workflow_name = 'one'")}
    for task, output in zip(plain, outputs, strict=True):
        run = runs[task.run_id]
        assert (run["status"], run["pending_tasks"], run["error"]) == ("succeeded", 0, None)
        assert json.loads(run["output"]) == {"t": output}
    # A one-task workflow with an on-failure task is two tasks: decided by the pass.
    other = await p.register_worker(client, key, ["guarded:t", "guarded:cleanup"])
    task = (await p.poll(client, key, other))[0]
    await p.succeed(client, key, other, task, {"ok": True})
    done = await p.get_run(client, key, guarded["id"])
    assert done["status"] == "succeeded"
    assert done["output"] == {"t": {"ok": True}}
    assert {t["name"]: t["status"] for t in done["tasks"]} == {
        "t": "succeeded", "cleanup": "cancelled"}
    assert await _as_scanned(owner_db) == len(outputs) + 1


async def test_a_batch_reporting_one_task_twice_takes_the_output_the_task_kept(
    app, client, key, account, owner_db
):
    worker = await _setup(client, key, {"name": "one", "tasks": [{"name": "t"}]})
    await p.trigger(client, key, "one")
    engine = app.state.engine
    tenant, worker_id = uuid.UUID(account.tenant_id), uuid.UUID(worker)
    (task,) = await engine.poll(tenant, worker_id, 10, 0)
    batch = [results.Result(task.task_run_id, task.lease_id, "succeeded", json.dumps(n))
             for n in (1, 2)]
    async with engine.db.raw(TenantContext(tenant)) as conn:
        accepted, _ = await results.complete(
            engine.specs, conn, tenant, worker_id, batch, engine.events)
    assert accepted == [task.task_run_id]
    assert await _as_scanned(owner_db) == 1


async def test_releasing_children_wakes_the_tenants_polls_once_and_only_when_queued(
    app, client, key, account, database_url
):
    worker = await _setup(client, key, p.DIAMOND)
    await p.trigger(client, key, "diamond")
    engine = app.state.engine
    tenant, worker_id = uuid.UUID(account.tenant_id), uuid.UUID(worker)
    received: list[str] = []
    listener = await asyncpg.connect(urls.asyncpg_dsn(urls.owner_url(database_url)))

    async def finish(names: set[str]) -> None:
        claimed = {t.task: t for t in await engine.poll(tenant, worker_id, 10, 0)}
        assert set(claimed) == names
        async with engine.db.raw(TenantContext(tenant)) as conn:
            await results.complete(engine.specs, conn, tenant, worker_id, [
                results.Result(t.task_run_id, t.lease_id, "succeeded", "1")
                for t in claimed.values()], engine.events)
        await asyncio.sleep(0.2)  # notifications arrive after the commit

    try:
        await listener.add_listener("kiln_queue", lambda *args: received.append(args[3]))
        await finish({"a"})  # b and c queued: one wake-up for the tenant
        assert received == [str(tenant)]
        received.clear()
        claimed = {t.task: t for t in await engine.poll(tenant, worker_id, 10, 0)}
        async with engine.db.raw(TenantContext(tenant)) as conn:  # d still waits for c
            await results.complete(engine.specs, conn, tenant, worker_id, [results.Result(
                claimed["b"].task_run_id, claimed["b"].lease_id, "succeeded", "1")],
                engine.events)
        await asyncio.sleep(0.2)
        assert received == []
        async with engine.db.raw(TenantContext(tenant)) as conn:
            await results.complete(engine.specs, conn, tenant, worker_id, [results.Result(
                claimed["c"].task_run_id, claimed["c"].lease_id, "succeeded", "1")],
                engine.events)
        await asyncio.sleep(0.2)
        assert received == [str(tenant)]
        received.clear()
        await finish({"d"})  # a leaf: nothing queued, no wake-up
        assert received == []
    finally:
        await listener.close()

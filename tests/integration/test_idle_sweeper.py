"""Idle, the sweeper sleeps until the first due time it reads (``due_sweeps``), long when nothing
is queued or running; queueing work (``kiln_queue``) and a soon DAG timer (``kiln_sweeps``) wake
it, and while a task runs it looks again within its interval — so a short retry backoff and a
lease expiry are still handled on time (app/engine/loops.py, ``Sweeper``).

Every sweeper here sleeps up to an hour when quiet: only a wake-up, or the sleep until a due
time, can explain work handled within a test."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest

from app.core.loop import LoopConfig
from app.engine.loops import Sweeper
from tests.support import protocol as p
from tests.support.loops import CountsPasses, passes_while
from tests.support.polling import eventually

HOUR = 3600.0


@pytest.fixture
def settings(settings):
    return settings.model_copy(update={"run_loops": False})


class Counting(CountsPasses, Sweeper):
    pass



@pytest.fixture
async def sweeper(app, client) -> AsyncIterator[Counting]:
    engine = app.state.engine
    await asyncio.wait_for(engine.dispatcher.connected.wait(), 30)
    loop = Counting(engine, LoopConfig(interval=0.05, idle_interval=HOUR), lease_grace=0)
    loop.start()
    try:
        yield loop
    finally:
        await loop.stop()



async def test_a_quiet_sweeper_sleeps(app, client, key, sweeper):
    await p.register_workflow(client, key, {"name": "one", "tasks": [{"name": "one"}]})
    await p.register_worker(client, key, ["one:one"])  # a worker, as on an idle server
    await eventually(lambda: asyncio.sleep(0, sweeper.idle and not sweeper.busy), 30)
    before = sweeper.passes
    await passes_while(100)  # a polling sweeper (interval 0.05) would pass again meanwhile
    assert sweeper.passes == before
    # Until the worker could be lost (worker_lost_after), not the hour: that is its first due time.
    assert 0 < sweeper.idle_delay() <= app.state.engine.config.worker_lost_after


async def test_queued_work_wakes_a_quiet_sweeper_and_keeps_it_looking(
    app, client, key, sweeper
):
    await p.register_workflow(client, key, {"name": "one", "tasks": [{"name": "one"}]})
    await eventually(lambda: asyncio.sleep(0, sweeper.idle and not sweeper.busy), 30)
    before = sweeper.passes
    await p.trigger(client, key, "one")  # kiln_queue
    await eventually(lambda: asyncio.sleep(0, sweeper.busy and sweeper.passes > before), 30)
    busy_from = sweeper.passes
    await passes_while(100)
    assert sweeper.passes > busy_from  # busy: it looks again within its interval


async def test_a_short_retry_backoff_is_queued_without_waiting_for_the_idle_cap(
    client, key, sweeper
):
    await p.register_workflow(client, key, {"name": "flaky", "tasks": [
        {"name": "flaky", "retries": 1, "backoff_factor": 2.0}]})
    worker = await p.register_worker(client, key, ["flaky:flaky"])
    await eventually(lambda: asyncio.sleep(0, sweeper.idle and not sweeper.busy), 30)
    await p.trigger(client, key, "flaky")
    [task] = await eventually(lambda: p.poll(client, key, worker, max_tasks=1, wait=1), 30)
    await p.report(client, key, worker, [{
        "task_run_id": task["task_run_id"], "lease_id": task["lease_id"], "status": "failed",
        "error": "RuntimeError: boom", "retryable": True}])  # retry in about a second
    [again] = await eventually(lambda: p.poll(client, key, worker, max_tasks=1, wait=1), 30)
    assert again["attempt"] == 2


async def test_an_expiring_lease_is_taken_back_without_waiting_for_the_idle_cap(
    client, key, sweeper, owner_db
):
    await p.register_workflow(client, key, {"name": "one", "tasks": [{"name": "one"}]})
    worker = await p.register_worker(client, key, ["one:one"])
    await p.trigger(client, key, "one")
    [task] = await eventually(lambda: p.poll(client, key, worker, max_tasks=1, wait=1), 30)
    # The worker dies: its lease runs out a second from now, and nobody writes anything.
    await owner_db.execute(
        "update task_runs set lease_expires_at = now() + interval '1 second' where id = $1",
        uuid.UUID(task["task_run_id"]))
    [again] = await eventually(lambda: p.poll(client, key, worker, max_tasks=1, wait=1), 30)
    assert again["task_run_id"] == task["task_run_id"]
    assert again["attempt"] == 2


async def test_a_replay_that_only_sets_a_dag_timer_wakes_a_quiet_sweeper(client, key, sweeper):
    definition = {"name": "cond", "tasks": [
        {"name": "a"}, {"name": "b", "parents": ["a"], "wait_for": [{"sleep_for": 1}]}]}
    await p.register_workflow(client, key, definition)
    worker = await p.register_worker(client, key, ["cond:a", "cond:b"])
    run = await p.trigger(client, key, "cond")
    for name in ("a", "b"):
        [task] = await eventually(lambda: p.poll(client, key, worker, max_tasks=1, wait=1), 30)
        assert task["task"] == name
        await p.succeed(client, key, worker, task, {})
    await eventually(lambda: asyncio.sleep(0, sweeper.idle and not sweeper.busy), 30)
    # Replaying b queues nothing (kiln_queue stays silent): it only opens b's sleep again,
    # whose kiln_sweeps wakes the sweeper to read the new timer.
    response = await client.post(f"/api/v1/runs/{run['id']}/replay", headers=key,
                                 json={"from_task": "b"})
    assert response.status_code in (200, 201), response.text
    [again] = await eventually(lambda: p.poll(client, key, worker, max_tasks=1, wait=1), 30)
    assert again["task"] == "b"

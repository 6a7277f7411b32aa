"""A results batch that Postgres aborts as a deadlock victim is applied again, not lost.

The SDK sends two results batches at once; should two transactions ever lock a run and a task
in opposite orders, Postgres aborts one. Here the other side is a hand-made transaction that
holds the run's row and then asks for the task's row the results transaction just updated.
"""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import pytest

from app.db import urls
from tests.support import api
from tests.support import protocol as p
from tests.support.polling import eventually


@pytest.fixture
def settings(settings):
    return settings.model_copy(update={"run_loops": False})


async def test_a_deadlocked_results_batch_is_applied_again(client, owner_db, database_url):
    account = await api.signup(client)
    key = api.bearer((await api.create_api_key(client, account, scopes=["worker"]))["key"])
    await p.register_workflow(client, key, {"name": "one", "tasks": [{"name": "one"}]})
    worker = await p.register_worker(client, key, ["one:one"])
    run = await p.trigger(client, key, "one")
    (task,) = await p.poll(client, key, worker)
    deadlocks_before = await owner_db.fetchval(
        "select deadlocks from pg_stat_database where datname = current_database()")

    blocker = await asyncpg.connect(urls.asyncpg_dsn(urls.owner_url(database_url)))
    try:
        holding = blocker.transaction()
        await holding.start()
        await blocker.execute("select 1 from workflow_runs where id = $1 for update",
                              uuid.UUID(run["id"]))
        results = asyncio.create_task(p.succeed(client, key, worker, task, {"ok": True}))

        async def results_waits_for_the_run() -> bool:
            return await owner_db.fetchval(
                "select count(*) from pg_stat_activity where wait_event_type = 'Lock'"
                " and datname = current_database() and pid <> $1",
                blocker.get_server_pid()) == 1

        await eventually(results_waits_for_the_run)
        # Now close the cycle: the task's row is locked by the waiting results transaction.
        await blocker.execute("select 1 from task_runs where id = $1 for update",
                              uuid.UUID(task["task_run_id"]))
        await holding.commit()
        reply = await asyncio.wait_for(results, 30)
    finally:
        await blocker.close()
    assert reply["accepted"] == [task["task_run_id"]]
    assert (await p.get_run(client, key, run["id"]))["status"] == "succeeded"
    deadlocks = await owner_db.fetchval(
        "select deadlocks from pg_stat_database where datname = current_database()")
    assert deadlocks > deadlocks_before  # there was one, and the batch survived it

"""Retention of finished runs, and leader election of singleton loops."""

from __future__ import annotations

import asyncio

import pytest

from app.core.leader import LeaderElection
from app.core.loop import Loop
from app.db import urls
from app.engine.retention import Retention
from tests.support import api
from tests.support import protocol as p


@pytest.fixture
def settings(settings):
    return settings.model_copy(update={"run_loops": False})


async def test_retention_deletes_finished_runs_past_the_tenant_period_only(
    app, client, owner_db
):
    account = await api.signup(client)
    key = api.bearer((await api.create_api_key(client, account))["key"])
    await p.register_workflow(client, key, {"name": "one", "tasks": [{"name": "one"}]})
    worker = await p.register_worker(client, key, ["one:one"])
    old, recent, running = [(await p.trigger(client, key, "one"))["id"] for _ in range(3)]
    tasks = {t["run_id"]: t for t in await p.poll(client, key, worker, max_tasks=3)}
    for run_id in (old, recent):
        await client.post(f"/api/v1/workers/{worker}/logs", headers=key, json={"lines": [{
            "task_run_id": tasks[run_id]["task_run_id"], "lease_id": tasks[run_id]["lease_id"],
            "message": "hello"}]})
        await p.succeed(client, key, worker, tasks[run_id], {})
    await owner_db.execute("update tenants set run_retention_days = 7")
    await owner_db.execute("update workflow_runs set finished_at = now() - interval '8 days',"
                           " created_at = now() - interval '8 days' where id = $1::uuid", old)

    assert await Retention(app.state.db).run_once() == 1
    remaining = {str(r["id"]) for r in await owner_db.fetch("select id from workflow_runs")}
    assert remaining == {recent, running}
    assert await owner_db.fetchval(
        "select count(*) from task_runs where run_id = $1::uuid", old) == 0
    assert await owner_db.fetchval("select count(*) from task_logs") == 1
    assert await Retention(app.state.db).run_once() == 0


class Recorder(Loop):
    name = "recorder"

    async def run_once(self) -> int:
        return 0


async def test_exactly_one_replica_leads_and_another_takes_over(app, client):
    dsn = urls.asyncpg_dsn(app.state.db.login_url)
    first = LeaderElection(dsn, [Recorder()], retry_interval=0.1, check_interval=0.2)
    second = LeaderElection(dsn, [Recorder()], retry_interval=0.1, check_interval=0.2)
    first.start()
    await asyncio.wait_for(first.changed.wait(), 10)
    assert first.is_leader
    second.start()
    await asyncio.sleep(0.5)  # several retry rounds of the second elector
    assert not second.is_leader
    await first.stop()  # the leader's session ends: its lock is released
    await asyncio.wait_for(second.changed.wait(), 10)
    assert second.is_leader
    await second.stop()
    assert not second.is_leader

"""Lease grace: a sweeper that has just (re)gained the database does not take back leases for
two lease durations, so workers that could not heartbeat while no server was reachable keep their
tasks (docs/state_machine.md, "Lease grace")."""

from __future__ import annotations

import uuid

import pytest

from app.engine.loops import Sweeper
from tests.support import api
from tests.support import protocol as p


@pytest.fixture
def settings(settings):
    return settings.model_copy(update={"run_loops": False})


@pytest.fixture
async def worker_key(client):
    account = await api.signup(client)
    key = await api.create_api_key(client, account, scopes=["worker"])
    return api.bearer(key["key"])


async def running_task_past_its_lease(client, worker_key, owner_db):
    """A claimed task whose lease ran out while (as far as the server knows) nobody swept."""
    await p.register_workflow(client, worker_key, {"name": "one", "tasks": [{"name": "one"}]})
    worker = await p.register_worker(client, worker_key, ["one:one"])
    run = await p.trigger(client, worker_key, "one")
    (task,) = await p.poll(client, worker_key, worker)
    await owner_db.execute(
        "update task_runs set lease_expires_at = now() - interval '1 minute' where id = $1",
        uuid.UUID(task["task_run_id"]))
    return worker, run, task


async def test_a_fresh_sweeper_spares_expired_leases_until_the_worker_heartbeats(
    app, client, worker_key, owner_db
):
    worker, run, task = await running_task_past_its_lease(client, worker_key, owner_db)
    sweeper = Sweeper(app.state.engine)  # as a restarted server builds it
    assert sweeper.in_lease_grace
    await sweeper.run_once()
    status = await owner_db.fetchval("select status from task_runs where id = $1",
                                     uuid.UUID(task["task_run_id"]))
    assert status == "running"

    beat = await client.post(f"/api/v1/workers/{worker}/heartbeat", headers=worker_key, json={
        "tasks": [{"task_run_id": task["task_run_id"], "lease_id": task["lease_id"]}]})
    assert beat.status_code == 200, beat.text
    assert await owner_db.fetchval(
        "select lease_expires_at > now() from task_runs where id = $1",
        uuid.UUID(task["task_run_id"]))
    # Past the grace the lease is current again, so nothing is taken back either.
    assert await Sweeper(app.state.engine, lease_grace=0).run_once() == 0

    reply = await p.succeed(client, worker_key, worker, task, {"ok": True})
    assert reply["accepted"] == [task["task_run_id"]]
    done = await p.get_run(client, worker_key, run["id"])
    assert done["status"] == "succeeded"
    assert [a["status"] for a in done["tasks"][0]["attempts"]] == ["succeeded"]


async def test_after_the_grace_an_expired_lease_is_taken_back(
    app, client, worker_key, owner_db
):
    worker, _, task = await running_task_past_its_lease(client, worker_key, owner_db)
    sweeper = Sweeper(app.state.engine, lease_grace=0)
    assert await sweeper.run_once() == 1
    (again,) = await p.poll(client, worker_key, worker)
    assert again["attempt"] == 2
    late = await p.succeed(client, worker_key, worker, task, {"late": True})
    assert late["rejected"] == [task["task_run_id"]]

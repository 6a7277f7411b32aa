"""A tenant's run retention may be a fraction of a day (migration 0008), as the growth soak of
ops/bench uses: runs finished longer ago than that are removed, younger ones stay."""

from __future__ import annotations

import pytest

from app.engine.retention import Retention
from tests.support import api
from tests.support import protocol as p


@pytest.fixture
def settings(settings):
    return settings.model_copy(update={"run_loops": False})


async def test_retention_of_half_a_day_removes_runs_finished_thirteen_hours_ago(
    app, client, owner_db
):
    account = await api.signup(client)
    key = api.bearer((await api.create_api_key(client, account))["key"])
    await p.register_workflow(client, key, {"name": "one", "tasks": [{"name": "one"}]})
    worker = await p.register_worker(client, key, ["one:one"])
    old, recent = [(await p.trigger(client, key, "one"))["id"] for _ in range(2)]
    for task in await p.poll(client, key, worker, max_tasks=2):
        await p.succeed(client, key, worker, task, {})
    await owner_db.execute("update tenants set run_retention_days = 0.5")
    await owner_db.execute("update workflow_runs set finished_at = now() - interval '13 hours'"
                           " where id = $1::uuid", old)

    assert await Retention(app.state.db).run_once() == 1

    remaining = {str(r["id"]) for r in await owner_db.fetch("select id from workflow_runs")}
    assert remaining == {recent}

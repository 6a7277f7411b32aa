"""A tenant sets how long its finished runs are kept (``/api/v1/retention``); the retention
loop removes that tenant's older runs and leaves other tenants' alone."""

from __future__ import annotations

import pytest

from app.engine.retention import Retention
from tests.support import api
from tests.support import protocol as p


@pytest.fixture
def settings(settings):
    return settings.model_copy(update={"run_loops": False})


async def test_retention_defaults_to_30_days_and_is_set_and_audited(client):
    owner = await api.signup(client)
    assert (await client.get("/api/v1/retention", headers=owner.headers)).json() == {
        "run_retention_days": 30.0}

    put = await client.put("/api/v1/retention", headers=owner.headers,
                           json={"run_retention_days": 0.1})

    assert put.status_code == 200, put.text
    assert put.json() == {"run_retention_days": 0.1}
    assert (await client.get("/api/v1/retention", headers=owner.headers)).json() == {
        "run_retention_days": 0.1}
    entries = (await client.get("/api/v1/audit?action=retention.set",
                                headers=owner.headers)).json()["items"]
    assert [(e["target_id"], e["details"]) for e in entries] == [
        (owner.tenant_id, {"run_retention_days": 0.1})]


@pytest.mark.parametrize("body", [
    {"run_retention_days": 0}, {"run_retention_days": -1}, {"run_retention_days": 3651},
    {"run_retention_days": "thirty"}, {"run_retention_days": None}, {},
    {"run_retention_days": 7, "runs": 1},
])
async def test_bad_retention_is_refused_and_changes_nothing(client, body):
    owner = await api.signup(client)

    response = await client.put("/api/v1/retention", headers=owner.headers, json=body)

    assert response.status_code == 422, response.text
    assert response.json()["error"]["message"]
    assert (await client.get("/api/v1/retention", headers=owner.headers)).json() == {
        "run_retention_days": 30.0}


async def test_only_managers_set_retention_and_readers_see_it(client):
    owner = await api.signup(client)
    member = await api.add_member(client, owner, role="member")
    reader = api.bearer((await api.create_api_key(client, owner, scopes=["read"]))["key"])

    refused = await client.put("/api/v1/retention", headers=member.headers,
                               json={"run_retention_days": 1})

    assert refused.status_code == 403, refused.text
    assert (await client.get("/api/v1/retention", headers=reader)).json() == {
        "run_retention_days": 30.0}


async def test_the_loop_removes_runs_past_their_own_tenants_retention(app, client, owner_db):
    """Two tenants, each with a run finished 13 hours ago: one keeps runs half a day (set
    through the API), the other the default 30 days."""
    kept_by = {}
    for name, days in (("short", 0.5), ("default", None)):
        account = await api.signup(client, tenant_name=name)
        key = api.bearer((await api.create_api_key(client, account))["key"])
        await p.register_workflow(client, key, {"name": "one", "tasks": [{"name": "one"}]})
        worker = await p.register_worker(client, key, ["one:one"])
        run = (await p.trigger(client, key, "one"))["id"]
        for task in await p.poll(client, key, worker):
            await p.succeed(client, key, worker, task, {})
        if days is not None:
            put = await client.put("/api/v1/retention", headers=account.headers,
                                   json={"run_retention_days": days})
            assert put.status_code == 200, put.text
        kept_by[name] = run
    await owner_db.execute("update workflow_runs set finished_at = now() - interval '13 hours'")

    assert await Retention(app.state.db).run_once() == 1

    remaining = {str(r["id"]) for r in await owner_db.fetch("select id from workflow_runs")}
    assert remaining == {kept_by["default"]}

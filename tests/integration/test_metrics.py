"""Prometheus metrics and the per-tenant queue-depth endpoint."""

from __future__ import annotations

import pytest

from tests.support import api
from tests.support import protocol as p


@pytest.fixture
def settings(settings):
    return settings.model_copy(update={"metrics_token": "scrape-me"})


async def test_metrics_show_queue_depth_per_tenant_and_need_the_token(client):
    account = await api.signup(client)
    key = api.bearer((await api.create_api_key(client, account))["key"])
    await p.register_workflow(client, key, p.DIAMOND)
    for _ in range(3):
        await p.trigger(client, key, "diamond")
    assert (await client.get("/metrics")).status_code == 401
    response = await client.get("/metrics", headers={"Authorization": "Bearer scrape-me"})
    assert response.status_code == 200
    text = response.text
    line = f'kiln_queue_depth{{tenant="{account.tenant_id}",workflow="diamond"}} 3.0'
    assert line in text
    assert "kiln_runs_triggered_total 3.0" in text
    assert "kiln_queue_oldest_seconds" in text


async def test_queue_endpoint_shows_only_the_callers_tenant(client):
    mine, other = await api.signup(client), await api.signup(client, "Other")
    mine_key = api.bearer((await api.create_api_key(client, mine))["key"])
    other_key = api.bearer((await api.create_api_key(client, other))["key"])
    for key, count in ((mine_key, 2), (other_key, 5)):
        await p.register_workflow(client, key, {"name": "one", "tasks": [{"name": "one"}]})
        for _ in range(count):
            await p.trigger(client, key, "one")
    body = (await client.get("/api/v1/metrics/queue", headers=mine_key)).json()
    assert body["total"] == 2
    assert [(i["workflow"], i["depth"]) for i in body["items"]] == [("one", 2)]

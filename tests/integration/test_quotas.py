"""Per-tenant quotas: 429 with Retry-After (or 413 for payloads), nothing written when refused;
heartbeats and results are never limited."""

from __future__ import annotations

import asyncio

import pytest

from tests.support import api
from tests.support import protocol as p


@pytest.fixture
def settings(settings):
    return settings.model_copy(update={
        "quota_runs_per_minute": 5, "quota_max_workflows": 2, "quota_max_payload_bytes": 200,
        "quota_max_webhook_endpoints": 3, "quota_max_alert_channels": 2, "run_loops": False})


@pytest.fixture
async def key(client):
    account = await api.signup(client)
    return api.bearer((await api.create_api_key(client, account))["key"])


async def test_runs_per_minute_answer_429_with_retry_after_and_write_nothing(client, key,
                                                                            owner_db):
    await p.register_workflow(client, key, {"name": "one", "tasks": [{"name": "one"}]})
    bulk = await client.post("/api/v1/workflows/one/runs/bulk", headers=key,
                             json={"runs": [{"input": {}} for _ in range(4)]})
    assert bulk.status_code == 201
    await p.trigger(client, key, "one")
    refused = await client.post("/api/v1/workflows/one/runs", headers=key, json={"input": {}})
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "rate_limited"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert await owner_db.fetchval("select count(*) from workflow_runs") == 5
    too_many = await client.post("/api/v1/workflows/one/runs/bulk", headers=key,
                                 json={"runs": [{"input": {}}, {"input": {}}]})
    assert too_many.status_code == 429

    # Work already accepted still completes: the worker protocol is never throttled.
    worker = await p.register_worker(client, key, ["one:one"])
    tasks = await p.poll(client, key, worker, max_tasks=5)
    for task in tasks:
        await p.succeed(client, key, worker, task, {})
    assert await owner_db.fetchval(
        "select count(*) from workflow_runs where status = 'succeeded'") == 5


async def test_a_tenant_override_raises_its_own_limit(client, key, owner_db):
    await p.register_workflow(client, key, {"name": "one", "tasks": [{"name": "one"}]})
    await owner_db.execute("""update tenants set quotas = '{"runs_per_minute": 50}'""")
    bulk = await client.post("/api/v1/workflows/one/runs/bulk", headers=key,
                             json={"runs": [{"input": {}} for _ in range(20)]})
    assert bulk.status_code == 201, bulk.text


async def test_payload_and_workflow_count_limits(client, key, owner_db):
    await p.register_workflow(client, key, {"name": "one", "tasks": [{"name": "one"}]})
    big = await client.post("/api/v1/workflows/one/runs", headers=key,
                            json={"input": {"blob": "x" * 500}})
    assert big.status_code == 413
    assert "limit is 200" in big.json()["error"]["message"]
    await p.register_workflow(client, key, {"name": "two", "tasks": [{"name": "two"}]})
    third = await client.post("/api/v1/workflows", headers=key,
                              json={"name": "three", "tasks": [{"name": "t"}]})
    assert third.status_code == 429
    again = await client.post("/api/v1/workflows", headers=key,
                              json={"name": "one", "tasks": [{"name": "one"}, {"name": "x"}]})
    assert again.status_code == 201  # a new version of an existing workflow is not a new one
    assert await owner_db.fetchval("select count(*) from workflows") == 2


async def test_concurrent_registrations_of_new_workflows_never_exceed_the_limit(
        client, key, owner_db):
    answers = await asyncio.gather(*(
        client.post("/api/v1/workflows", headers=key,
                    json={"name": f"wf{i}", "tasks": [{"name": "t"}]})
        for i in range(6)))
    assert sorted(a.status_code for a in answers) == [201] * 2 + [429] * 4
    refused = next(a for a in answers if a.status_code == 429)
    assert "limit 2" in refused.json()["error"]["message"]
    assert await owner_db.fetchval("select count(*) from workflows") == 2


def webhook(name: str) -> dict[str, str]:
    return {"name": name, "event_key": "hook:received", "verifier": "hmac-sha256"}


def channel(name: str) -> dict[str, object]:
    return {"type": "webhook", "name": name, "config": {"url": "https://example.com/h"},
            "events": ["run.failed"]}


async def test_concurrent_webhook_creates_never_exceed_the_limit(client, owner_db):
    account = await api.signup(client)
    answers = await asyncio.gather(*(
        client.post("/api/v1/webhooks", headers=account.headers, json=webhook(f"h{i}"))
        for i in range(8)))
    assert sorted(a.status_code for a in answers) == [201] * 3 + [429] * 5
    refused = next(a for a in answers if a.status_code == 429)
    assert refused.json()["error"]["code"] == "rate_limited"
    assert "limit 3" in refused.json()["error"]["message"]
    assert int(refused.headers["Retry-After"]) > 0
    assert await owner_db.fetchval("select count(*) from webhooks") == 3

    # Deleting one frees a slot; another tenant has its own count.
    created = next(a.json() for a in answers if a.status_code == 201)
    deleted = await client.delete(f"/api/v1/webhooks/{created['id']}", headers=account.headers)
    assert deleted.status_code == 204
    again = await client.post("/api/v1/webhooks", headers=account.headers, json=webhook("h9"))
    assert again.status_code == 201, again.text
    other = await api.signup(client)
    theirs = await client.post("/api/v1/webhooks", headers=other.headers, json=webhook("h0"))
    assert theirs.status_code == 201, theirs.text


async def test_alert_channels_are_counted_per_tenant_with_overrides(client, owner_db):
    account = await api.signup(client)
    answers = await asyncio.gather(*(
        client.post("/api/v1/alerts/channels", headers=account.headers, json=channel(f"c{i}"))
        for i in range(5)))
    assert sorted(a.status_code for a in answers) == [201] * 2 + [429] * 3
    assert await owner_db.fetchval("select count(*) from alert_channels") == 2

    await owner_db.execute("""update tenants set quotas = '{"max_alert_channels": 3}'""")
    third = await client.post("/api/v1/alerts/channels", headers=account.headers,
                              json=channel("c9"))
    assert third.status_code == 201, third.text
    fourth = await client.post("/api/v1/alerts/channels", headers=account.headers,
                               json=channel("c10"))
    assert fourth.status_code == 429

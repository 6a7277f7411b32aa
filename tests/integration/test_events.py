"""Events through the real API: subscriptions with wildcards and filters, the latest version
only, bulk pushes, one transaction per push, listing with runs, and bad input."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support import api
from tests.support import protocol as p


@pytest.fixture
def settings(settings):
    return settings.model_copy(update={"run_loops": False})


@pytest.fixture
async def keys(client):
    account = await api.signup(client)
    worker = api.bearer((await api.create_api_key(client, account, scopes=["worker"]))["key"])
    trigger = api.bearer((await api.create_api_key(client, account, scopes=["trigger"]))["key"])
    return account, worker, trigger


def workflow(name: str, on_events: list[str], **extra: Any) -> dict[str, Any]:
    return {"name": name, "tasks": [{"name": "t"}], "on_events": on_events, **extra}


async def push(client, headers, key: str, payload: Any = None, **extra: Any) -> dict[str, Any]:
    response = await client.post("/api/v1/events", headers=headers,
                                 json={"key": key, "payload": payload or {}, **extra})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def workflows_started(client, headers, event: dict[str, Any]) -> list[str]:
    runs = [await p.get_run(client, headers, run_id) for run_id in event["runs"]]
    return sorted(run["workflow"] for run in runs)


async def test_wildcards_and_filters_start_exactly_the_matching_workflows(client, keys):
    _, worker, trigger = keys
    for definition in (
        workflow("exact", ["order:created"]),
        workflow("wild", ["order:*"]),
        workflow("big-orders", ["order:*"], event_filter="payload.total > 100"),
        workflow("both", ["order:created", "order:*"]),  # two patterns match: still one run
        workflow("users", ["user:created"]),
        workflow("everything", ["*"], event_filter="key.startsWith('user:')"),
        workflow("quiet", []),
    ):
        await p.register_workflow(client, worker, definition)

    small = await push(client, trigger, "order:created", {"total": 50})
    big = await push(client, trigger, "order:paid", {"total": 500})
    user = await push(client, trigger, "user:created", {"id": 1})
    nobody = await push(client, trigger, "invoice:sent", {"total": 1000})
    no_total = await push(client, trigger, "order:paid", {"note": "filter errors = no match"})

    assert await workflows_started(client, trigger, small) == ["both", "exact", "wild"]
    assert await workflows_started(client, trigger, big) == ["big-orders", "both", "wild"]
    assert await workflows_started(client, trigger, user) == ["everything", "users"]
    assert nobody["runs"] == []
    assert await workflows_started(client, trigger, no_total) == ["both", "wild"]


async def test_runs_get_the_payload_as_input_and_the_event_in_metadata(client, keys):
    _, worker, trigger = keys
    await p.register_workflow(client, worker, workflow("ship", ["order:created"]))
    event = await push(client, trigger, "order:created", {"id": 7}, metadata={"source": "shop"})
    assert set(event) >= {"id", "runs"}
    (run_id,) = event["runs"]
    run = await p.get_run(client, trigger, run_id)
    assert run["input"] == {"id": 7}
    assert run["status"] == "queued"
    assert run["metadata"] == {"source": "shop", "event_id": event["id"],
                               "event_key": "order:created"}
    worker_id = await p.register_worker(client, worker, ["ship:t"])
    (task,) = await p.poll(client, worker, worker_id)
    assert task["run_id"] == run_id
    assert task["input"] == {"id": 7}


async def test_only_the_latest_version_subscribes(client, keys):
    _, worker, trigger = keys
    await p.register_workflow(client, worker, workflow("flow", ["old:key"]))
    await p.register_workflow(client, worker, workflow("flow", ["new:key"]))
    assert (await push(client, trigger, "old:key"))["runs"] == []
    assert len((await push(client, trigger, "new:key"))["runs"]) == 1
    # An old worker re-registering version 1 during a deploy does not bring its events back.
    await p.register_workflow(client, worker, workflow("flow", ["old:key"]))
    assert (await push(client, trigger, "old:key"))["runs"] == []
    run = await p.get_run(client, trigger, (await push(client, trigger, "new:key"))["runs"][0])
    assert run["version"] == 2


async def test_bulk_push_stores_every_event_with_its_runs_in_order(client, keys):
    _, worker, trigger = keys
    await p.register_workflow(client, worker, workflow("a", ["k:*"]))
    await p.register_workflow(client, worker, workflow("b", ["k:2"]))
    response = await client.post("/api/v1/events/bulk", headers=trigger, json={"events": [
        {"key": "k:1", "payload": {"n": 1}},
        {"key": "k:2", "payload": {"n": 2}, "metadata": {"m": True}},
        {"key": "none", "payload": {"n": 3}},
    ]})
    assert response.status_code == 201, response.text
    events = response.json()["events"]
    assert [e["key"] for e in events] == ["k:1", "k:2", "none"]
    assert [len(e["runs"]) for e in events] == [1, 2, 0]
    inputs = [(await p.get_run(client, trigger, r))["input"] for r in events[1]["runs"]]
    assert inputs == [{"n": 2}, {"n": 2}]


async def test_a_refused_batch_stores_nothing(client, keys, owner_db):
    _, worker, trigger = keys
    await p.register_workflow(client, worker, workflow("a", ["k"]))
    huge = "x" * (300 * 1024)
    too_big = await client.post("/api/v1/events/bulk", headers=trigger, json={"events": [
        {"key": "k", "payload": {}}, {"key": "k", "payload": {}}, {"key": "k", "payload": huge},
    ]})
    bad_key = await client.post("/api/v1/events/bulk", headers=trigger, json={"events": [
        {"key": "k", "payload": {}}, {"key": "has space", "payload": {}},
    ]})
    assert too_big.status_code == 413, too_big.text
    assert "event 2's payload" in too_big.json()["error"]["message"]
    assert bad_key.status_code == 422, bad_key.text
    assert await owner_db.fetchval("select count(*) from events") == 0
    assert await owner_db.fetchval("select count(*) from workflow_runs") == 0


async def test_list_and_get_show_events_with_their_runs(client, keys):
    account, worker, trigger = keys
    await p.register_workflow(client, worker, workflow("a", ["order:*"]))
    first = await push(client, trigger, "order:created", {"n": 1})
    second = await push(client, trigger, "order:paid", {"n": 2})
    await push(client, trigger, "user:created", {"n": 3})

    page = (await client.get("/api/v1/events", headers=account.headers,
                             params={"limit": 2})).json()
    assert [e["key"] for e in page["items"]] == ["user:created", "order:paid"]
    rest = (await client.get("/api/v1/events", headers=account.headers,
                             params={"limit": 2, "cursor": page["next_cursor"]})).json()
    assert [e["id"] for e in rest["items"]] == [first["id"]]
    assert rest["next_cursor"] is None

    orders = (await client.get("/api/v1/events", headers=account.headers,
                               params={"key": "order:*"})).json()["items"]
    assert [e["id"] for e in orders] == [second["id"], first["id"]]
    exact = (await client.get("/api/v1/events", headers=account.headers,
                              params={"key": "order:paid", "source": "api"})).json()["items"]
    assert [e["id"] for e in exact] == [second["id"]]

    one = (await client.get(f"/api/v1/events/{first['id']}", headers=account.headers)).json()
    assert one["payload"] == {"n": 1}
    assert one["source"] == "api"
    assert one["runs"] == first["runs"]
    assert one["triggered"] == [{"id": first["runs"][0], "workflow": "a", "status": "queued"}]


async def test_events_of_another_tenant_are_invisible(client, keys):
    _, _, trigger = keys
    event = await push(client, trigger, "secret:thing", {"n": 1})
    other = await api.signup(client, tenant_name="Other")
    assert (await client.get(f"/api/v1/events/{event['id']}",
                             headers=other.headers)).status_code == 404
    listed = (await client.get("/api/v1/events", headers=other.headers)).json()
    assert listed["items"] == []


async def test_pushing_needs_the_trigger_permission(client, keys):
    account, _, _ = keys
    reader = api.bearer((await api.create_api_key(client, account, scopes=["read"]))["key"])
    response = await client.post("/api/v1/events", headers=reader, json={"key": "k"})
    assert response.status_code == 403
    assert (await client.post("/api/v1/events", json={"key": "k"})).status_code == 401


@pytest.mark.parametrize(("body", "status", "says"), [
    ({"key": "k" * 256}, 422, "key"),
    ({"key": ""}, 422, "key"),
    ({"key": "two words"}, 422, "without whitespace"),
    ({"key": "star*"}, 422, "'*'"),
    ({"key": "k", "payload": "x" * (300 * 1024)}, 413, "limit is 262144 bytes"),
    ({"key": "k", "unknown": 1}, 422, "unknown"),
    ({"payload": {}}, 422, "key"),
])
async def test_bad_events_get_a_clear_4xx(client, keys, body, status, says):
    _, _, trigger = keys
    response = await client.post("/api/v1/events", headers=trigger, json=body)
    assert response.status_code == status, response.text
    assert says in response.json()["error"]["message"]


async def test_bulk_is_limited_to_1000_events(client, keys):
    _, _, trigger = keys
    response = await client.post("/api/v1/events/bulk", headers=trigger,
                                 json={"events": [{"key": "k"}] * 1001})
    assert response.status_code == 422, response.text
    assert "1000" in response.json()["error"]["message"]


@pytest.mark.parametrize(("extra", "says"), [
    ({"on_events": ["a"], "event_filter": "payload.total >"}, "event_filter"),
    ({"on_events": ["has space"]}, "event pattern"),
    ({"on_crons": ["61 * * * *"]}, "invalid cron expression '61 * * * *'"),
    ({"on_crons": ["* * * * * *"]}, "expected 5 fields"),
])
async def test_registration_refuses_bad_triggers_naming_them(client, keys, extra, says):
    _, worker, _ = keys
    response = await client.post("/api/v1/workflows", headers=worker,
                                 json={**workflow("bad", []), **extra})
    assert response.status_code == 422, response.text
    assert says in response.json()["error"]["message"]


async def test_runs_started_by_events_are_counted_in_the_metrics(app, client, keys):
    _, worker, trigger = keys
    await p.register_workflow(client, worker, workflow("a", ["k:*"]))
    await p.register_workflow(client, worker, workflow("b", ["k:1"]))
    await push(client, trigger, "k:1")
    await push(client, trigger, "k:2")
    (family,) = app.state.metrics.runs_triggered.collect()
    assert [s.value for s in family.samples if s.name.endswith("_total")] == [3.0]

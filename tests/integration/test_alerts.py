"""Alert channels end to end: outbox row → relay → delivery → a real receiver."""

from __future__ import annotations

import json

import pytest
from standardwebhooks.webhooks import Webhook

from tests.plugins.helpers import alert_loops_of, create_channel, deliveries, emit
from tests.plugins.receivers import Reply, http_receiver
from tests.support import api


@pytest.fixture
def settings(settings):
    return settings.model_copy(update={"allow_private_egress": True, "run_loops": False})


async def test_webhook_alert_is_signed_per_standard_webhooks(client, app, login_db):
    account = await api.signup(client)
    with http_receiver() as receiver:
        channel = await create_channel(client, account, "webhook", {"url": receiver.url()})
        secret = channel["generated_secrets"]["secret"]
        assert secret.startswith("whsec_")
        assert "secret" not in channel["config"]
        assert channel["secrets_set"] == ["secret"]
        event = await emit(login_db, account.tenant_id, "run.failed", error="boom")
        async with alert_loops_of(app) as (relay, send):
            assert await relay.run_once() == 1
            assert await send.run_once() == 1
        [request] = receiver.requests
        body = Webhook(secret).verify(request.body, request.headers)
        assert body["type"] == "run.failed"
        assert body["data"]["run_id"] == event["run_id"]
        assert body["data"]["error"] == "boom"
        assert body["data"]["run_url"] == f"http://127.0.0.1:8080/runs/{event['run_id']}"
        [delivery] = await deliveries(client, account)
        assert delivery["status"] == "succeeded"
        assert delivery["webhook_id"] == request.headers["webhook-id"]
        assert [a["succeeded"] for a in delivery["attempts"]] == [True]


async def test_channel_types_contract(client):
    account = await api.signup(client)
    response = await client.get("/api/v1/alerts/channel-types", headers=account.headers)
    assert response.status_code == 200, response.text
    items = {item["type"]: item for item in response.json()["items"]}
    assert {"slack", "webhook", "email"} <= set(items)
    for item in items.values():
        assert item["title"]
        assert item["config_schema"]["type"] == "object"
    assert items["slack"]["config_schema"]["properties"]["webhook_url"]["writeOnly"] is True


async def test_slack_receives_a_readable_message_with_a_run_link(client, app, login_db):
    account = await api.signup(client)
    with http_receiver() as slack:
        await create_channel(client, account, "slack",
                             {"webhook_url": slack.url("/services/T/B/x")})
        event = await emit(login_db, account.tenant_id, "run.failed", error="disk full",
                           workflow="nightly-etl")
        async with alert_loops_of(app) as (relay, send):
            await relay.run_once()
            await send.run_once()
        [request] = slack.requests
        assert request.path == "/services/T/B/x"
        text = json.loads(request.body)["text"]
        assert "nightly-etl" in text
        assert "disk full" in text
        assert "failed" in text.lower()
        assert f"<http://127.0.0.1:8080/runs/{event['run_id']}|{event['run_id']}>" in text


async def test_retries_keep_the_webhook_id_until_the_receiver_accepts(client, app, login_db):
    account = await api.signup(client)
    with http_receiver() as receiver:
        receiver.replies = [Reply(500, body=b"oops"), Reply(500, body=b"oops")]
        channel = await create_channel(client, account, "webhook", {"url": receiver.url()})
        secret = channel["generated_secrets"]["secret"]
        await emit(login_db, account.tenant_id, "run.failed")
        async with alert_loops_of(app) as (relay, send):
            await relay.run_once()
            await eventually_sent(send, receiver, 3)
        ids = {r.headers["webhook-id"] for r in receiver.requests}
        assert len(receiver.requests) == 3
        assert len(ids) == 1
        for request in receiver.requests:
            Webhook(secret).verify(request.body, request.headers)
        [delivery] = await deliveries(client, account)
        assert delivery["status"] == "succeeded"
        assert [(a["attempt"], a["succeeded"], a["status_code"]) for a in delivery["attempts"]] \
            == [(1, False, 500), (2, False, 500), (3, True, 200)]
        assert delivery["webhook_id"] in ids


async def eventually_sent(send, receiver, count: int) -> None:
    from tests.plugins.receivers import eventually

    async def attempt() -> bool:
        await send.run_once()
        return len(receiver.requests) >= count

    await eventually(attempt, within=10)


async def test_an_alert_committed_before_a_crash_is_delivered_after_restart(
    client, app, settings, login_db
):
    from app.asgi import create_app

    account = await api.signup(client)
    with http_receiver() as receiver:
        await create_channel(client, account, "webhook", {"url": receiver.url()})
        # The engine committed the failure (and its outbox row); the server died before any
        # relay pass ran. Nothing was delivered.
        await emit(login_db, account.tenant_id, "run.failed", error="before the crash")
        assert receiver.requests == []
        restarted = create_app(settings)  # a new server process: its own plugins, pools, loops
        async with alert_loops_of(restarted) as (relay, send):
            assert await relay.run_once() == 1
            assert await send.run_once() == 1
        [request] = receiver.requests
        assert b"before the crash" in request.body


async def test_retry_after_delays_the_next_attempt(client, app, login_db):
    import datetime as dt

    from app.domain.alerts.runtime import DeliveryPolicy

    account = await api.signup(client)
    with http_receiver() as receiver:
        receiver.default = Reply(429, {"Retry-After": "120"}, b"slow down")
        await create_channel(client, account, "webhook", {"url": receiver.url()})
        await emit(login_db, account.tenant_id, "run.failed")
        policy = DeliveryPolicy(base_delay=0.01, max_delay=3600)
        async with alert_loops_of(app, policy) as (relay, send):
            await relay.run_once()
            before = dt.datetime.now(dt.UTC)
            assert await send.run_once() == 1
            assert await send.run_once() == 0  # not due again yet
        [delivery] = await deliveries(client, account)
        next_at = dt.datetime.fromisoformat(delivery["next_attempt_at"])
        assert delivery["status"] == "pending"
        assert next_at - before >= dt.timedelta(seconds=115)
        assert "429" in delivery["last_error"]


async def test_sustained_failure_disables_the_channel_and_cancels_its_deliveries(
    client, app, login_db
):
    account = await api.signup(client)
    with http_receiver() as receiver:
        receiver.default = Reply(500, body=b"down")
        channel = await create_channel(client, account, "webhook", {"url": receiver.url()},
                                       events=["run.failed", "run.cancelled"])
        await emit(login_db, account.tenant_id, "run.failed")
        await emit(login_db, account.tenant_id, "run.cancelled", status="cancelled")
        async with alert_loops_of(app) as (relay, send):
            await relay.run_once()
            await eventually_sent(send, receiver, 3)  # FAST_POLICY: 3 failures in a row
        got = (await client.get(f"/api/v1/alerts/channels/{channel['id']}",
                                headers=account.headers)).json()
        assert got["enabled"] is False
        assert got["disabled_reason"].startswith("disabled automatically: 3 consecutive")
        statuses = sorted(d["status"] for d in await deliveries(client, account))
        assert statuses == ["cancelled", "cancelled"]
        # Enabling it again resets the failure count.
        response = await client.patch(f"/api/v1/alerts/channels/{channel['id']}",
                                      headers=account.headers, json={"enabled": True})
        assert response.json()["enabled"] is True
        assert response.json()["consecutive_failures"] == 0


async def test_410_gone_disables_the_channel_at_once(client, app, login_db):
    account = await api.signup(client)
    with http_receiver() as receiver:
        receiver.default = Reply(410, body=b"gone")
        channel = await create_channel(client, account, "webhook", {"url": receiver.url()})
        await emit(login_db, account.tenant_id, "run.failed")
        async with alert_loops_of(app) as (relay, send):
            await relay.run_once()
            await send.run_once()
        got = (await client.get(f"/api/v1/alerts/channels/{channel['id']}",
                                headers=account.headers)).json()
        assert got["enabled"] is False
        assert "410" in got["disabled_reason"]
        assert len(receiver.requests) == 1


async def test_a_burst_of_failures_of_one_workflow_is_grouped(client, app, login_db):
    account = await api.signup(client)
    with http_receiver() as receiver:
        await create_channel(client, account, "webhook", {"url": receiver.url()})
        for i in range(5):
            await emit(login_db, account.tenant_id, "run.failed", error=f"e{i}")
        await emit(login_db, account.tenant_id, "run.failed", workflow="other")
        async with alert_loops_of(app) as (relay, send):
            assert await relay.run_once() == 6
            assert await send.run_once() == 2
            # More failures within the window: one more message, held to the window's end.
            for i in range(3):
                await emit(login_db, account.tenant_id, "run.failed", error=f"late{i}")
            await relay.run_once()
            assert await send.run_once() == 0
        bodies = {json.loads(r.body)["data"]["workflow"]: json.loads(r.body)["data"]
                  for r in receiver.requests}
        assert bodies["etl"]["count"] == 5
        assert len(bodies["etl"]["runs"]) == 5
        assert [run["error"] for run in bodies["etl"]["runs"]] == [f"e{i}" for i in range(5)]
        assert bodies["other"]["count"] == 1
        pending = await deliveries(client, account, status="pending")
        assert [d["event_count"] for d in pending] == [3]


async def test_filters_and_subscriptions_select_events(client, app, login_db):
    account = await api.signup(client)
    with http_receiver() as receiver:
        await create_channel(
            client, account, "webhook", {"url": receiver.url()}, events=["run.failed"],
            filters={"workflows": ["etl-*"], "metadata": {"env": "prod"}},
        )
        await emit(login_db, account.tenant_id, "run.failed", workflow="etl-daily",
                   metadata={"env": "prod"})
        await emit(login_db, account.tenant_id, "run.failed", workflow="etl-daily",
                   metadata={"env": "dev"})
        await emit(login_db, account.tenant_id, "run.failed", workflow="report",
                   metadata={"env": "prod"})
        await emit(login_db, account.tenant_id, "run.succeeded", workflow="etl-daily",
                   status="succeeded", metadata={"env": "prod"})
        async with alert_loops_of(app) as (relay, send):
            assert await relay.run_once() == 4
            await send.run_once()
        [request] = receiver.requests
        assert b'"etl-daily"' in request.body
        assert b'"prod"' in request.body


async def test_secrets_are_write_only_and_encrypted_at_rest(client, app, login_db, owner_db):
    account = await api.signup(client)
    with http_receiver() as receiver:
        secret = "whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldY"
        channel = await create_channel(client, account, "webhook",
                                       {"url": receiver.url(), "secret": secret})
        assert channel["generated_secrets"] == {}
        path = f"/api/v1/alerts/channels/{channel['id']}"
        for body in (channel, (await client.get(path, headers=account.headers)).json(),
                     (await client.get("/api/v1/alerts/channels",
                                       headers=account.headers)).json()["items"][0]):
            assert secret not in str(body)
            assert body["secrets_set"] == ["secret"]
        stored = await owner_db.fetchval("SELECT secrets FROM alert_channels")
        assert stored.startswith("v1.")
        assert secret not in stored
        # Changing other settings keeps the secret.
        response = await client.patch(path, headers=account.headers,
                                      json={"config": {"url": receiver.url("/moved")}})
        assert response.status_code == 200, response.text
        assert secret not in response.text
        await emit(login_db, account.tenant_id, "run.failed")
        async with alert_loops_of(app) as (relay, send):
            await relay.run_once()
            await send.run_once()
        [request] = receiver.requests
        assert request.path == "/moved"
        Webhook(secret).verify(request.body, request.headers)


@pytest.mark.parametrize(("payload", "status", "fragment"), [
    ({"type": "pager", "config": {}}, 422, "unknown channel type"),
    ({"type": "webhook", "config": {"url": "ftp://x"}}, 422, "config.url"),
    ({"type": "webhook", "config": {"url": "http://x/", "extra": 1}}, 422, "unknown setting"),
    ({"type": "email", "config": {"to": ["not-an-address"]}}, 422, "email"),
    ({"type": "webhook", "config": {"url": "http://x/"}, "events": ["run.exploded"]}, 422,
     "unknown events"),
    ({"type": "webhook", "config": {"url": "http://x/"}, "bogus": 1}, 400, ""),
])
async def test_invalid_channels_are_refused(client, payload, status, fragment):
    account = await api.signup(client)
    body = {"name": "c", "events": ["run.failed"], **payload}
    response = await client.post("/api/v1/alerts/channels", headers=account.headers, json=body)
    assert response.status_code in (status, 422), response.text
    assert fragment in response.text


async def test_channel_names_are_unique_per_tenant_and_delete_works(client):
    account = await api.signup(client)
    body = {"type": "webhook", "name": "ops", "config": {"url": "https://example.com/h"},
            "events": ["run.failed"]}
    first = await client.post("/api/v1/alerts/channels", headers=account.headers, json=body)
    assert first.status_code == 201
    again = await client.post("/api/v1/alerts/channels", headers=account.headers, json=body)
    assert again.status_code == 409
    path = f"/api/v1/alerts/channels/{first.json()['id']}"
    assert (await client.delete(path, headers=account.headers)).status_code == 204
    assert (await client.get(path, headers=account.headers)).status_code == 404
    assert (await client.delete(path, headers=account.headers)).status_code == 404


async def test_test_endpoint_sends_now_and_logs_the_attempt(client):
    account = await api.signup(client)
    with http_receiver() as receiver:
        channel = await create_channel(client, account, "webhook", {"url": receiver.url()})
        response = await client.post(f"/api/v1/alerts/channels/{channel['id']}/test",
                                     headers=account.headers)
        assert response.status_code == 200, response.text
        delivery = response.json()
        assert delivery["status"] == "succeeded"
        assert delivery["event"] == "alert.test"
        assert delivery["attempts"][0]["status_code"] == 200
        [request] = receiver.requests
        body = Webhook(channel["generated_secrets"]["secret"]).verify(request.body,
                                                                      request.headers)
        assert body["data"]["test"] is True
        receiver.default = Reply(503, body=b"nope")
        failed = (await client.post(f"/api/v1/alerts/channels/{channel['id']}/test",
                                    headers=account.headers)).json()
        assert failed["status"] == "failed"
        assert "503" in failed["last_error"]
        got = (await client.get(f"/api/v1/alerts/channels/{channel['id']}",
                                headers=account.headers)).json()
        assert got["consecutive_failures"] == 0  # tests do not count towards auto-disable


async def test_channels_and_deliveries_are_isolated_per_tenant(client, app, login_db):
    alice, bob = await api.signup(client, "A"), await api.signup(client, "B")
    with http_receiver() as receiver:
        channel = await create_channel(client, alice, "webhook", {"url": receiver.url()})
        await emit(login_db, alice.tenant_id, "run.failed")
        await emit(login_db, bob.tenant_id, "run.failed")
        async with alert_loops_of(app) as (relay, send):
            await relay.run_once()
            await send.run_once()
        assert len(receiver.requests) == 1  # bob has no channel: his event is not alice's
        path = f"/api/v1/alerts/channels/{channel['id']}"
        assert (await client.get(path, headers=bob.headers)).status_code == 404
        assert (await client.patch(path, headers=bob.headers, json={"name": "x"})).status_code \
            == 404
        assert (await client.post(f"{path}/test", headers=bob.headers)).status_code == 404
        assert (await client.delete(path, headers=bob.headers)).status_code == 404
        assert await deliveries(client, bob) == []
        assert len(await deliveries(client, alice)) == 1


async def test_viewers_cannot_manage_channels(client):
    account = await api.signup(client)
    key = await api.create_api_key(client, account, scopes=["read"])
    headers = api.bearer(key["key"])
    assert (await client.get("/api/v1/alerts/channel-types", headers=headers)).status_code == 200
    assert (await client.get("/api/v1/alerts/deliveries", headers=headers)).status_code == 200
    response = await client.post("/api/v1/alerts/channels", headers=headers, json={
        "type": "webhook", "name": "x", "config": {"url": "https://example.com/"},
        "events": ["run.failed"]})
    assert response.status_code == 403

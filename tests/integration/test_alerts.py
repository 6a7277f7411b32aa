"""Alert channels end to end: outbox row → relay → delivery → a real receiver."""

from __future__ import annotations

import pytest
from standardwebhooks.webhooks import Webhook

from tests.plugins.helpers import alert_loops_of, create_channel, deliveries, emit
from tests.plugins.receivers import Reply, http_receiver, smtp_receiver
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
        assert "secret" not in channel["config"] and channel["secrets_set"] == ["secret"]
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

"""The SSRF guard on alert channels, with KILN_ALLOW_PRIVATE_EGRESS off (the default)."""

from __future__ import annotations

import pytest

from tests.plugins.helpers import alert_loops_of, create_channel, deliveries, emit
from tests.plugins.receivers import http_receiver
from tests.support import api


@pytest.fixture
def settings(settings):
    assert settings.allow_private_egress is False
    return settings.model_copy(update={"run_loops": False})


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:9/hook", "http://10.1.2.3/", "http://192.168.0.10/",
    "http://169.254.169.254/latest/meta-data/", "http://2130706433/", "http://0x7f000001/",
    "http://[::1]/", "http://[::ffff:127.0.0.1]/", "file:///etc/passwd", "gopher://x/",
])
async def test_non_public_literal_urls_are_refused_when_configured(client, url):
    account = await api.signup(client)
    for type_, config in (("webhook", {"url": url}), ("slack", {"webhook_url": url})):
        response = await client.post("/api/v1/alerts/channels", headers=account.headers, json={
            "type": type_, "name": type_, "config": config, "events": ["run.failed"]})
        assert response.status_code == 422, response.text


async def test_hostnames_resolving_to_loopback_are_refused_at_send_time(client, app, login_db):
    account = await api.signup(client)
    with http_receiver() as receiver:
        await create_channel(client, account, "webhook",
                             {"url": receiver.url(host="localhost")})
        channel = await create_channel(client, account, "slack",
                                       {"webhook_url": receiver.url(host="localhost")})
        await emit(login_db, account.tenant_id, "run.failed")
        async with alert_loops_of(app) as (relay, send):
            await relay.run_once()
            assert await send.run_once() == 2
        test = await client.post(f"/api/v1/alerts/channels/{channel['id']}/test",
                                 headers=account.headers)
        assert test.json()["status"] == "failed"
        assert receiver.requests == []
    for delivery in await deliveries(client, account):
        assert "non-public address" in delivery["attempts"][0]["detail"]

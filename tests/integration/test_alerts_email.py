"""E-mail alerts through a real SMTP server (aiosmtpd on a free port)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator

import pytest

from app.domain.alerts import runtime
from app.hooks.types import Alert
from tests.plugins.helpers import alert_loops_of, create_channel, deliveries, emit
from tests.plugins.receivers import SmtpReceiver, smtp_receiver
from tests.support import api


@pytest.fixture
def smtp() -> Iterator[SmtpReceiver]:
    with smtp_receiver() as receiver:
        yield receiver


@pytest.fixture
def settings(settings, smtp):
    return settings.model_copy(update={
        "run_loops": False, "smtp_host": "127.0.0.1", "smtp_port": smtp.port,
        "smtp_starttls": False, "smtp_from": "alerts@kiln.test",
        "public_url": "https://kiln.example.com/",
    })


async def test_email_alert_has_subject_text_and_html(client, app, login_db, smtp):
    account = await api.signup(client)
    await create_channel(client, account, "email",
                         {"to": ["ops@example.com", "dev@example.com"],
                          "subject_prefix": "[prod]"},
                         events=["task.failed"])
    event = await emit(login_db, account.tenant_id, "task.failed", workflow="billing",
                       task="charge", attempt=3, error="card declined")
    async with alert_loops_of(app) as (relay, send):
        await relay.run_once()
        assert await send.run_once() == 1
    [message] = smtp.messages
    assert smtp.envelopes == [("alerts@kiln.test", ["ops@example.com", "dev@example.com"])]
    assert message["Subject"] == "[prod] Kiln: Task failed: billing / charge"
    assert message["X-Kiln-Event"] == "task.failed"
    plain = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    run_url = f"https://kiln.example.com/runs/{event['run_id']}"
    assert "Task: charge (attempt 3)" in plain
    assert "card declined" in plain
    assert run_url in plain
    assert f'href="{run_url}"' in html
    [delivery] = await deliveries(client, account)
    assert delivery["status"] == "succeeded"


async def test_email_without_smtp_settings_fails_with_a_clear_reason(settings):
    from app.asgi import create_app

    unconfigured = create_app(settings.model_copy(update={"smtp_host": None}))
    alerting = runtime.Alerting(unconfigured.state.settings, unconfigured.state.plugins)
    try:
        kind = (await alerting.channel_types())["email"][1]
        alert = Alert(event="run.failed", tenant_id=uuid.uuid4(), at=dt.datetime.now(dt.UTC),
                      delivery_id="d", webhook_id="msg_x")
        outcome = await alerting.attempt(kind, alert, {"to": ["ops@example.com"]}, 1)
    finally:
        await alerting.aclose()
    assert outcome.succeeded is False
    assert "KILN_SMTP_HOST" in (outcome.detail or "")

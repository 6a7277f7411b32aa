"""One test per hook (``app/hooks/hookspecs.py``); temporary plugins are unregistered in
``finally`` (``helpers.registered``)."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from app.core.egress import Egress
from app.hooks import hookimpl, outbox_events
from app.hooks.types import (
    AlertMessage,
    DeliveryContext,
    DeliveryResult,
    LifecycleEvent,
    RateLimitDecision,
    RateLimitStrategy,
    VerificationResult,
    WebhookVerifier,
)
from tests.plugins.helpers import alert_loops_of, create_channel, emit, registered
from tests.plugins.receivers import http_receiver
from tests.support import api


class Recorder:
    """A plugin implementing exactly one ``on_*`` hook, recording what it receives."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []


def recorder_for(hook: str) -> Recorder:
    recorder = Recorder()

    def implementation(event: LifecycleEvent, egress: Egress) -> None:
        recorder.calls.append({"event": event, "egress": egress})

    implementation.__name__ = hook
    setattr(recorder, hook, hookimpl(implementation))
    return recorder


@pytest.mark.parametrize(("event_name", "hook"), sorted(outbox_events.EVENT_HOOKS.items()))
async def test_lifecycle_hook_receives_its_event_after_commit(
    client, app, login_db, event_name, hook
):
    account = await api.signup(client)
    recorder = recorder_for(hook)
    with registered(app, recorder):
        fields: dict[str, Any] = {"task": "extract", "attempt": 2, "error": "boom"}
        if event_name == "worker.lost":
            fields = {"worker_id": str(uuid.uuid4()), "worker_name": "w1", "run_id": None}
        payload = await emit(login_db, account.tenant_id, event_name, **fields)
        await emit(login_db, account.tenant_id, "run.succeeded" if hook != "on_run_succeeded"
                   else "run.cancelled")  # another event: this hook must not see it
        async with alert_loops_of(app) as (relay, _):
            assert await relay.run_once() == 2
    [call] = recorder.calls
    event = call["event"]
    assert isinstance(event, LifecycleEvent)
    assert isinstance(call["egress"], Egress)
    assert event.event == event_name
    assert str(event.tenant_id) == account.tenant_id
    assert event.outbox_id > 0
    if event_name == "worker.lost":
        assert event.worker_name == "w1"
        assert event.run_url is None
    else:
        assert event.run_id == payload["run_id"]
        assert event.workflow == "etl"
        assert (event.task, event.attempt, event.error) == ("extract", 2, "boom")
        assert event.run_url == f"http://127.0.0.1:8080/runs/{payload['run_id']}"


def test_task_succeeded_is_written_only_when_a_plugin_wants_it(app):
    pm = app.state.plugins
    assert "task.succeeded" not in outbox_events.wanted(pm)
    assert "run.failed" in outbox_events.wanted(pm)
    with registered(app, recorder_for("on_task_succeeded")):
        assert "task.succeeded" in outbox_events.wanted(pm)
    assert "task.succeeded" not in outbox_events.wanted(pm)


class PagerChannel:
    type = "pager"
    title = "Pager"
    description = "A test channel type that keeps what it is sent."
    config_schema: dict[str, Any] = {
        "type": "object",
        "properties": {"team": {"type": "string"}, "token": {"type": "string", "writeOnly": True}},
        "required": ["team", "token"], "additionalProperties": False,
    }

    def __init__(self) -> None:
        self.sent: list[DeliveryContext] = []

    async def send(self, context: DeliveryContext) -> DeliveryResult:
        self.sent.append(context)
        return DeliveryResult(detail="paged")


class PagerPlugin:
    def __init__(self) -> None:
        self.channel = PagerChannel()

    @hookimpl
    def register_alert_channels(self) -> list[Any]:
        return [self.channel]


async def test_register_alert_channels_adds_a_channel_type(client, app, login_db):
    account = await api.signup(client)
    plugin = PagerPlugin()
    with registered(app, plugin):
        types = (await client.get("/api/v1/alerts/channel-types",
                                  headers=account.headers)).json()["items"]
        pager = next(t for t in types if t["type"] == "pager")
        assert pager["title"] == "Pager"
        assert pager["config_schema"] == PagerChannel.config_schema
        channel = await create_channel(client, account, "pager",
                                       {"team": "sre", "token": "t0ps3cret"})
        assert channel["config"] == {"team": "sre"}
        assert channel["secrets_set"] == ["token"]
        await emit(login_db, account.tenant_id, "run.failed")
        async with alert_loops_of(app) as (relay, send):
            await relay.run_once()
            assert await send.run_once() == 1
    [context] = plugin.channel.sent
    assert context.config == {"team": "sre", "token": "t0ps3cret"}
    assert context.alert.event == "run.failed"
    assert context.message.title.startswith("Kiln: Run failed")


class FixedWindow:
    name = "test-fixed-window"
    title = "Fixed window (test)"
    config_schema: dict[str, Any] = {"type": "object", "properties": {"limit": {"type": "integer"}}}

    def decide(self, config: Any, state: Any, now: float, cost: int) -> Any:
        used = (state or {}).get("used", 0) + cost
        allowed = used <= config["limit"]
        return RateLimitDecision(allowed, 0 if allowed else 1.0, max(0, config["limit"] - used)), \
            {"used": used if allowed else used - cost}


async def test_register_rate_limit_strategies_collects_strategies(app):
    class Plugin:
        @hookimpl
        def register_rate_limit_strategies(self) -> list[Any]:
            return [FixedWindow()]

    with registered(app, Plugin()):
        found = await app.state.plugins.collect("register_rate_limit_strategies")
    [strategy] = [s for s in found if s.name == "test-fixed-window"]
    assert isinstance(strategy, RateLimitStrategy)
    decision, state = strategy.decide({"limit": 1}, None, 0.0, 1)
    assert decision.allowed
    assert strategy.decide({"limit": 1}, state, 0.0, 1)[0].allowed is False


class HeaderToken:
    name = "test-header-token"
    title = "Header token (test)"
    config_schema: dict[str, Any] = {}

    def generate_secret(self) -> str | None:
        return "s3cret"

    def verify(self, *, headers: Any, body: bytes, secret: str | None, config: Any,
               now: float) -> VerificationResult:
        ok = headers.get("x-token") == secret
        return VerificationResult(ok, None if ok else "wrong token")


async def test_register_webhook_verifiers_collects_verifiers(app):
    class Plugin:
        @hookimpl
        async def register_webhook_verifiers(self) -> list[Any]:  # async works too
            return [HeaderToken()]

    with registered(app, Plugin()):
        found = await app.state.plugins.collect("register_webhook_verifiers")
    [verifier] = [v for v in found if v.name == "test-header-token"]
    assert isinstance(verifier, WebhookVerifier)
    secret = verifier.generate_secret()
    assert verifier.verify(headers={"x-token": secret}, body=b"", secret=secret, config={},
                           now=0).ok
    assert verifier.verify(headers={}, body=b"", secret=secret, config={}, now=0).reason


async def test_alert_message_for_channel_rewords_alerts(client, app, login_db):
    account = await api.signup(client)
    seen: list[str] = []

    class Plugin:
        @hookimpl
        def alert_message_for_channel(self, alert: Any, channel_type: str) -> Any:
            seen.append(channel_type)
            if channel_type != "webhook":
                return None  # keep Kiln's wording elsewhere
            return AlertMessage(title=f"{alert.workflow} is on fire", text="call someone")

    with http_receiver() as receiver, registered(app, Plugin()):
        await create_channel(client, account, "webhook", {"url": receiver.url()})
        await create_channel(client, account, "slack", {"webhook_url": receiver.url("/slack")})
        await emit(login_db, account.tenant_id, "run.failed")
        async with alert_loops_of(app) as (relay, send):
            await relay.run_once()
            assert await send.run_once() == 2
    by_path = {r.path: json.loads(r.body) for r in receiver.requests}
    assert by_path["/hook"]["data"]["message"] == {"title": "etl is on fire",
                                                   "text": "call someone"}
    assert "Run failed" in by_path["/slack"]["text"]
    assert sorted(seen) == ["slack", "webhook"]


async def test_run_url_for_event_changes_links(client, app, login_db):
    account = await api.signup(client)
    recorder = recorder_for("on_run_failed")

    class Plugin:
        @hookimpl
        def run_url_for_event(self, event: LifecycleEvent, base_url: str) -> str:
            return f"https://ops.example.com/kiln/{event.workflow}/{event.run_id}"

    with http_receiver() as receiver, registered(app, Plugin()), registered(app, recorder):
        await create_channel(client, account, "webhook", {"url": receiver.url()})
        payload = await emit(login_db, account.tenant_id, "run.failed")
        async with alert_loops_of(app) as (relay, send):
            await relay.run_once()
            await send.run_once()
    expected = f"https://ops.example.com/kiln/etl/{payload['run_id']}"
    assert recorder.calls[0]["event"].run_url == expected
    [request] = receiver.requests
    assert json.loads(request.body)["data"]["run_url"] == expected

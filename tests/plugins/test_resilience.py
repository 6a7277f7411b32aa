"""A raising or hanging plugin never fails a request, the relay, or an alert."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest

from app.hooks import hookimpl
from app.hooks.manager import get_plugin_manager
from tests.plugins.helpers import alert_loops_of, create_channel, deliveries, emit, registered
from tests.plugins.receivers import http_receiver
from tests.support import api


class Raising:
    @hookimpl
    def register_alert_channels(self) -> list[Any]:
        raise RuntimeError("plugin bug")

    @hookimpl
    def on_run_failed(self, event: Any) -> None:
        raise RuntimeError("plugin bug")

    @hookimpl
    def alert_message_for_channel(self, alert: Any) -> Any:
        raise RuntimeError("plugin bug")


class Hanging:
    def __init__(self) -> None:
        self.release = threading.Event()

    @hookimpl
    async def register_alert_channels(self) -> list[Any]:
        await asyncio.sleep(3600)
        return []

    @hookimpl
    def on_run_failed(self, event: Any) -> None:
        self.release.wait(30)  # a blocking sync hook: runs in a thread, abandoned at timeout

    @hookimpl
    async def run_url_for_event(self, event: Any) -> str:
        await asyncio.sleep(3600)
        return "never"


async def test_requests_survive_raising_and_hanging_plugins(client, app):
    account = await api.signup(client)
    hanging = Hanging()
    try:
        with registered(app, Raising()), registered(app, hanging):
            started = time.monotonic()
            response = await client.get("/api/v1/alerts/channel-types", headers=account.headers)
            assert response.status_code == 200
            assert {"slack", "webhook", "email"} <= {i["type"] for i in response.json()["items"]}
            assert time.monotonic() - started < 10  # bounded by the 0.5 s hook timeout, not 1 h
    finally:
        hanging.release.set()


async def test_the_relay_and_alerts_survive_raising_and_hanging_plugins(client, app, login_db):
    account = await api.signup(client)
    hanging = Hanging()
    try:
        with http_receiver() as receiver, registered(app, Raising()), registered(app, hanging):
            await create_channel(client, account, "webhook", {"url": receiver.url()})
            payload = await emit(login_db, account.tenant_id, "run.failed")
            async with alert_loops_of(app) as (relay, send):
                assert await relay.run_once() == 1
                assert await relay.run_once() == 0  # the outbox row is consumed
                assert await send.run_once() == 1
            [request] = receiver.requests
            assert payload["run_id"].encode() in request.body
            [delivery] = await deliveries(client, account)
            assert delivery["status"] == "succeeded"
    finally:
        hanging.release.set()


async def test_safe_callers_isolate_failures():
    pm = get_plugin_manager()
    hanging = Hanging()

    class Good:
        @hookimpl
        def run_url_for_event(self, event: Any, base_url: str) -> str:
            return f"{base_url}/good"

        @hookimpl
        def on_run_failed(self, event: Any) -> str:
            return "ok"

    pm.hook_timeout = 0.2
    for plugin in (Good(), Raising(), hanging):
        pm.register(plugin)
    try:
        # firstresult: the hanging one (registered last, asked first) times out, the raising
        # one is skipped, the good one answers.
        assert await pm.first("run_url_for_event", event=None, base_url="b") == "b/good"
        started = time.monotonic()
        assert await pm.broadcast("on_run_failed", event=None, egress=None) == ["ok"]
        assert time.monotonic() - started < 2
        types = await pm.collect("register_alert_channels")
        assert sorted(t.type for t in types) == ["email", "slack", "webhook"]
    finally:
        hanging.release.set()


async def test_sync_hooks_run_off_the_event_loop():
    pm = get_plugin_manager()
    threads: list[str] = []

    class Sync:
        @hookimpl
        def on_run_failed(self, event: Any) -> None:
            threads.append(threading.current_thread().name)

    pm.register(Sync())
    await pm.broadcast("on_run_failed", event=None, egress=None)
    assert threads == ["kiln-plugin-hook"]


async def test_unknown_hook_names_are_refused_by_the_callers():
    pm = get_plugin_manager()
    with pytest.raises(ValueError, match="no hook named"):
        await pm.broadcast("on_run_exploded")


async def test_a_slow_plugin_costs_a_batch_one_timeout_and_keeps_per_run_order(
    client, app, login_db
):
    account = await api.signup(client)
    seen: list[tuple[str, str]] = []
    release = threading.Event()

    class Slow:
        @hookimpl
        def on_run_failed(self, event: Any) -> None:
            seen.append((event.run_id, event.event))
            release.wait(30)  # past the 0.5 s timeout

        @hookimpl
        def on_task_failed(self, event: Any) -> None:
            seen.append((event.run_id, event.event))

    try:
        with registered(app, Slow()):
            runs = []
            for _ in range(30):
                first = await emit(login_db, account.tenant_id, "task.failed", task="t")
                await emit(login_db, account.tenant_id, "run.failed", run_id=first["run_id"])
                runs.append(first["run_id"])
            async with alert_loops_of(app) as (relay, _):
                started = time.monotonic()
                assert await relay.run_once() == 60
                elapsed = time.monotonic() - started
        assert elapsed < 7.5  # one after the other it would take 30 timeouts of 0.5 s
        for run_id in runs:
            assert [e for r, e in seen if r == run_id] == ["task.failed", "run.failed"]
    finally:
        release.set()

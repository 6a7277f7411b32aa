"""A real failing run, through the engine and the worker protocol, alerts a webhook receiver via
the app's own background loops — even with a raising and a hanging plugin installed."""

from __future__ import annotations

import asyncio
import json
import threading
from typing import Any

import pytest
from standardwebhooks.webhooks import Webhook

from app.hooks import hookimpl
from tests.plugins.helpers import create_channel, deliveries, registered
from tests.plugins.receivers import eventually, http_receiver
from tests.support import api
from tests.support import protocol as p


@pytest.fixture
def settings(settings):
    return settings.model_copy(update={
        "run_loops": True, "allow_private_egress": True, "plugin_hook_timeout_seconds": 0.5,
    })


class Misbehaving:
    def __init__(self) -> None:
        self.release = threading.Event()
        self.seen: list[str] = []

    @hookimpl
    def on_run_failed(self, event: Any) -> None:
        self.seen.append(event.run_id)
        raise RuntimeError("plugin bug")

    @hookimpl
    def on_task_failed(self, event: Any) -> None:
        self.release.wait(30)  # hangs past the hook timeout

    @hookimpl
    async def alert_message_for_channel(self, alert: Any) -> Any:
        await asyncio.sleep(3600)


async def test_a_failed_run_alerts_through_the_running_server(client, app):
    account = await api.signup(client)
    key = api.bearer((await api.create_api_key(client, account, scopes=["admin"]))["key"])
    plugin = Misbehaving()
    try:
        with http_receiver() as receiver, registered(app, plugin):
            channel = await create_channel(client, account, "webhook", {"url": receiver.url()},
                                           events=["run.failed"])
            await p.register_workflow(client, key, {"name": "payments",
                                                    "tasks": [{"name": "charge"}]})
            worker = await p.register_worker(client, key, ["payments:charge"])
            run = await p.trigger(client, key, "payments")
            tasks = await eventually(lambda: p.poll(client, key, worker, max_tasks=1, wait=1))
            response = await p.report(client, key, worker, [{
                "task_run_id": tasks[0]["task_run_id"], "lease_id": tasks[0]["lease_id"],
                "status": "failed", "error": "ValueError: card declined", "retryable": False}])
            assert response is not None
            assert (await p.get_run(client, key, run["id"]))["status"] == "failed"

            await eventually(lambda: receiver.requests, within=20)
            [request] = receiver.requests
            body = Webhook(channel["generated_secrets"]["secret"]).verify(request.body,
                                                                          request.headers)
            assert body["type"] == "run.failed"
            assert body["data"]["run_id"] == run["id"]
            assert body["data"]["workflow"] == "payments"
            assert "card declined" in body["data"]["error"]
            assert body["data"]["run_url"].endswith(f"/runs/{run['id']}")
            assert plugin.seen == [run["id"]]
            [delivery] = await eventually(
                lambda: _succeeded(client, account), within=10)
            assert json.loads(request.body)["data"]["count"] == 1
            assert delivery["attempts"][0]["status_code"] == 200
    finally:
        plugin.release.set()


async def _succeeded(client, account):  # type: ignore[no-untyped-def]
    items = await deliveries(client, account)
    return items if items and items[0]["status"] == "succeeded" else None

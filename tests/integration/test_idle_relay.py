"""Idle, the outbox relay sleeps long; the ``kiln_outbox`` NOTIFY of an outbox write wakes it at
once (app/core/loop.py, ``Loop.nudge``)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from app.domain.alerts import outbox, runtime
from app.engine.dispatcher import OUTBOX_CHANNEL
from app.hooks import hookimpl
from tests.plugins.helpers import registered
from tests.support import api
from tests.support import protocol as p
from tests.support.polling import eventually


@pytest.fixture
def settings(settings):
    return settings.model_copy(update={"run_loops": False})


class Seen:
    def __init__(self) -> None:
        self.runs: list[str] = []

    @hookimpl
    def on_run_failed(self, event: Any) -> None:
        self.runs.append(event.run_id)


async def test_an_outbox_write_wakes_the_idle_relay(app, client):
    account = await api.signup(client)
    key = api.bearer((await api.create_api_key(client, account, scopes=["admin"]))["key"])
    await p.register_workflow(client, key, {"name": "one", "tasks": [{"name": "one"}]})
    worker = await p.register_worker(client, key, ["one:one"])
    alerting = runtime.Alerting(app.state.settings, app.state.plugins)
    # An idle sleep of an hour: only the write's NOTIFY can make it relay within the test.
    relay = outbox.OutboxRelay(app.state.db, alerting, outbox.RelayConfig(idle_interval=3600))
    app.state.engine.dispatcher.wakers[OUTBOX_CHANNEL].append(relay.nudge)
    seen = Seen()
    with registered(app, seen):
        relay.start()
        try:
            await eventually(lambda: asyncio.sleep(0, relay.idle), 30)  # the loop's own state
            run = await p.trigger(client, key, "one")
            [task] = await p.poll(client, key, worker, max_tasks=1)
            await p.report(client, key, worker, [{
                "task_run_id": task["task_run_id"], "lease_id": task["lease_id"],
                "status": "failed", "error": "ValueError: no", "retryable": False}])
            await eventually(lambda: asyncio.sleep(0, seen.runs), 30)  # hooks may run in a thread
        finally:
            await relay.stop()
            await alerting.aclose()
    assert seen.runs == [run["id"]]

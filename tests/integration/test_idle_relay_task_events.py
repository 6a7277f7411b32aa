"""The outbox has two writers, and the idle relay (up to 30 s asleep in production) relies on both
sending ``kiln_outbox``: ``count_down_runs`` (a run's final event: tests/integration/
test_idle_relay.py) and ``write_outbox`` (task, worker and rate-limit events: here, a retry)."""

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
        self.tasks: list[str] = []

    @hookimpl
    def on_task_retrying(self, event: Any) -> None:
        self.tasks.append(event.task_run_id)


async def test_a_task_event_wakes_the_idle_relay(app, client):
    account = await api.signup(client)
    key = api.bearer((await api.create_api_key(client, account, scopes=["admin"]))["key"])
    await p.register_workflow(client, key, {"name": "flaky", "tasks": [
        {"name": "flaky", "retries": 1, "backoff_factor": 10.0}]})
    worker = await p.register_worker(client, key, ["flaky:flaky"])
    alerting = runtime.Alerting(app.state.settings, app.state.plugins)
    await asyncio.wait_for(app.state.engine.dispatcher.connected.wait(), 30)
    # An idle sleep of an hour: only the write's NOTIFY can make it relay within the test.
    relay = outbox.OutboxRelay(app.state.db, alerting, outbox.RelayConfig(idle_interval=3600))
    app.state.engine.dispatcher.wakers[OUTBOX_CHANNEL].append(relay.nudge)
    seen = Seen()
    with registered(app, seen):
        relay.start()
        try:
            await eventually(lambda: asyncio.sleep(0, relay.idle), 30)  # the loop's own state
            await p.trigger(client, key, "flaky")
            [task] = await p.poll(client, key, worker, max_tasks=1)
            await p.report(client, key, worker, [{
                "task_run_id": task["task_run_id"], "lease_id": task["lease_id"],
                "status": "failed", "error": "RuntimeError: boom", "retryable": True}])
            await eventually(lambda: asyncio.sleep(0, seen.tasks), 30)  # hooks may run in a thread
        finally:
            app.state.engine.dispatcher.wakers[OUTBOX_CHANNEL].remove(relay.nudge)
            await relay.stop()
            await alerting.aclose()
    assert seen.tasks == [task["task_run_id"]]

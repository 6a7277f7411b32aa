"""Idle, the outbox relay sleeps long; the ``kiln_outbox`` NOTIFY of an outbox write wakes it at
once (app/core/loop.py, ``Loop.nudge``). The outbox has two writers and the relay relies on
both: ``count_down_runs`` (a run's final event) and ``write_outbox`` (task, worker and
rate-limit events: here, a retry)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
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
        self.tasks: list[str] = []

    @hookimpl
    def on_run_failed(self, event: Any) -> None:
        self.runs.append(event.run_id)

    @hookimpl
    def on_task_retrying(self, event: Any) -> None:
        self.tasks.append(event.task_run_id)


@contextlib.asynccontextmanager
async def idle_relay(app: Any) -> AsyncIterator[Seen]:
    """A relay asleep for an hour (only a write's NOTIFY can make it relay within the test),
    with a plugin that records what it hands over."""
    alerting = runtime.Alerting(app.state.settings, app.state.plugins)
    await asyncio.wait_for(app.state.engine.dispatcher.connected.wait(), 30)
    relay = outbox.OutboxRelay(app.state.db, alerting, outbox.RelayConfig(idle_interval=3600))
    app.state.engine.dispatcher.wakers[OUTBOX_CHANNEL].append(relay.nudge)
    seen = Seen()
    with registered(app, seen):
        relay.start()
        try:
            await eventually(lambda: asyncio.sleep(0, relay.idle), 30)  # the loop's own state
            yield seen
        finally:
            app.state.engine.dispatcher.wakers[OUTBOX_CHANNEL].remove(relay.nudge)
            await relay.stop()
            await alerting.aclose()


async def _fail(client: Any, key: dict[str, str], worker: str, *, retryable: bool) -> str:
    [task] = await p.poll(client, key, worker, max_tasks=1)
    await p.report(client, key, worker, [{
        "task_run_id": task["task_run_id"], "lease_id": task["lease_id"],
        "status": "failed", "error": "RuntimeError: boom", "retryable": retryable}])
    return str(task["task_run_id"])


async def test_a_run_event_wakes_the_idle_relay(app, client):
    account = await api.signup(client)
    key = api.bearer((await api.create_api_key(client, account, scopes=["admin"]))["key"])
    await p.register_workflow(client, key, {"name": "one", "tasks": [{"name": "one"}]})
    worker = await p.register_worker(client, key, ["one:one"])
    async with idle_relay(app) as seen:
        run = await p.trigger(client, key, "one")
        await _fail(client, key, worker, retryable=False)
        await eventually(lambda: asyncio.sleep(0, seen.runs), 30)  # hooks may run in a thread
    assert seen.runs == [run["id"]]


async def test_a_task_event_wakes_the_idle_relay(app, client):
    account = await api.signup(client)
    key = api.bearer((await api.create_api_key(client, account, scopes=["admin"]))["key"])
    await p.register_workflow(client, key, {"name": "flaky", "tasks": [
        {"name": "flaky", "retries": 1, "backoff_factor": 10.0}]})
    worker = await p.register_worker(client, key, ["flaky:flaky"])
    async with idle_relay(app) as seen:
        await p.trigger(client, key, "flaky")
        task_run_id = await _fail(client, key, worker, retryable=True)
        await eventually(lambda: asyncio.sleep(0, seen.tasks), 30)
    assert seen.tasks == [task_run_id]

"""Idle, the alert sender sleeps until the first pending delivery's ``next_attempt_at`` (at most
its ``idle_interval``); the relay wakes it when it creates deliveries (app/domain/alerts/sender.py).

Every loop here sleeps up to an hour when idle: only a wake-up, or the sleep until a due time,
can explain a delivery sent within a test."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from app.domain.alerts import outbox, runtime, sender
from app.engine.dispatcher import OUTBOX_CHANNEL
from tests.plugins.helpers import create_channel
from tests.plugins.receivers import Reply, http_receiver
from tests.support import api
from tests.support import protocol as p
from tests.support.loops import CountsPasses, passes_while
from tests.support.polling import eventually

HOUR = 3600.0


@pytest.fixture
def settings(settings):
    return settings.model_copy(update={"run_loops": False, "allow_private_egress": True})


class Counting(CountsPasses, sender.DeliverySender):
    pass



@dataclass
class Alerts:
    relay: outbox.OutboxRelay
    sender: Counting


@pytest.fixture
async def alerts(app, client) -> AsyncIterator[Alerts]:
    """The relay and the sender as app/domain/alerts/loops.py wires them, both idle for an hour;
    retries of a failed delivery after about a second."""
    engine = app.state.engine
    await asyncio.wait_for(engine.dispatcher.connected.wait(), 30)
    alerting = runtime.Alerting(app.state.settings, app.state.plugins,
                                runtime.DeliveryPolicy(base_delay=1.0))
    send = Counting(app.state.db, alerting, sender.SenderConfig(interval=0.05, idle_interval=HOUR))
    relay = outbox.OutboxRelay(app.state.db, alerting, outbox.RelayConfig(idle_interval=HOUR),
                               on_deliveries=send.wake)
    engine.dispatcher.wakers[OUTBOX_CHANNEL].append(relay.nudge)
    relay.start()
    send.start()
    try:
        yield Alerts(relay, send)
    finally:
        await send.stop()
        await relay.stop()
        engine.dispatcher.wakers[OUTBOX_CHANNEL].remove(relay.nudge)
        await alerting.aclose()


async def fail_a_run(client, key) -> None:  # type: ignore[no-untyped-def]
    await p.register_workflow(client, key, {"name": "one", "tasks": [{"name": "one"}]})
    worker = await p.register_worker(client, key, ["one:one"])
    await p.trigger(client, key, "one")
    [task] = await eventually(lambda: p.poll(client, key, worker, max_tasks=1, wait=1), 30)
    await p.report(client, key, worker, [{
        "task_run_id": task["task_run_id"], "lease_id": task["lease_id"], "status": "failed",
        "error": "ValueError: no", "retryable": False}])


async def test_an_idle_sender_sleeps(alerts):
    await eventually(lambda: asyncio.sleep(0, alerts.sender.idle), 30)
    before = alerts.sender.passes
    await passes_while(100)  # a polling sender (interval 0.05) would pass again meanwhile
    assert alerts.sender.passes == before
    assert alerts.sender.idle_delay() == HOUR  # nothing pending


async def test_a_delivery_created_while_the_sender_sleeps_is_sent_and_retried_promptly(
    client, alerts
):
    account = await api.signup(client)
    key = api.bearer((await api.create_api_key(client, account, scopes=["admin"]))["key"])
    with http_receiver() as receiver:
        receiver.replies.append(Reply(status=503))  # the first attempt fails: retried in ~1 s
        await create_channel(client, account, "webhook", {"url": receiver.url()},
                             events=["run.failed"])
        await eventually(lambda: asyncio.sleep(0, alerts.sender.idle), 30)
        await fail_a_run(client, key)
        # Created by the relay (woken by kiln_outbox), sent by the sender it wakes.
        await eventually(lambda: asyncio.sleep(0, receiver.requests), 30)
        # The retry: the idle sender sleeps until the delivery's next_attempt_at, not the hour.
        await eventually(lambda: asyncio.sleep(0, len(receiver.requests) >= 2), 30)
    assert [r.body for r in receiver.requests[1:]] == [receiver.requests[0].body]

"""``run.succeeded`` — one outbox row per run — is written only for a tenant with an enabled
alert channel subscribed to it (or while a plugin implements ``on_run_succeeded``); the other
lifecycle events are written as before."""

from __future__ import annotations

import pytest

from tests.plugins.helpers import create_channel
from tests.support import api
from tests.support import protocol as p


@pytest.fixture
def settings(settings):
    return settings.model_copy(update={"run_loops": False})


async def _finish_one(client, key, worker: str) -> str:
    run = await p.trigger(client, key, "one")
    [task] = await p.poll(client, key, worker, max_tasks=1)
    await p.succeed(client, key, worker, task, {})
    return str(run["id"])


async def test_run_succeeded_is_written_only_for_a_subscribed_tenant(client, owner_db):
    quiet, subscribed = await api.signup(client), await api.signup(client)
    await create_channel(client, subscribed, "webhook", {"url": "https://example.com/hook"},
                         events=["run.succeeded"])
    runs = {}
    for account in (quiet, subscribed):
        key = api.bearer((await api.create_api_key(client, account))["key"])
        await p.register_workflow(client, key, {"name": "one", "tasks": [{"name": "one"}]})
        worker = await p.register_worker(client, key, ["one:one"])
        runs[account.tenant_id] = await _finish_one(client, key, worker)

    rows = await owner_db.fetch("select tenant_id::text, event, payload->>'run_id' as run_id"
                                " from outbox where event = 'run.succeeded'")
    assert [(r["tenant_id"], r["run_id"]) for r in rows] == [
        (subscribed.tenant_id, runs[subscribed.tenant_id])]

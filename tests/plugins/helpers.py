"""Helpers of the plugin and alert tests: emit outbox events the way the engine does, build the
alert loops of an app, create channels through the API."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import asyncpg
import httpx
from litestar import Litestar
from litestar.datastructures import State

from app.db import tenancy
from app.db.database import Database
from app.domain.alerts import loops as alert_loops
from app.domain.alerts import outbox, runtime, sender
from tests.support.api import Account

FAST_POLICY = runtime.DeliveryPolicy(
    base_delay=0.01, max_delay=0.05, max_attempts=5, disable_after_failures=3,
    disable_after_seconds=0,
)


async def emit(
    login_db: asyncpg.Connection, tenant_id: str, event: str, **fields: Any
) -> dict[str, Any]:
    """Insert one outbox row as ``kiln_tenant`` in a tenant transaction, as the engine does in
    the transaction of a state change."""
    payload: dict[str, Any] = {
        "event": event, "run_id": str(uuid.uuid4()), "workflow": "etl", "status": "failed",
        "at": dt.datetime.now(dt.UTC).isoformat(), **fields,
    }
    async with login_db.transaction():
        await login_db.execute(tenancy.SWITCH_SQL, tenancy.TENANT_ROLE, tenant_id, "")
        await login_db.execute(
            "INSERT INTO outbox (tenant_id, event, payload) VALUES ($1, $2, $3::jsonb)",
            uuid.UUID(tenant_id), event, json.dumps(payload),
        )
    return payload


@contextlib.asynccontextmanager
async def alert_loops_of(
    app: Litestar, policy: runtime.DeliveryPolicy = FAST_POLICY
) -> AsyncIterator[tuple[outbox.OutboxRelay, sender.DeliverySender]]:
    """The relay and the sender of ``app`` (not started: tests call ``run_once()``).

    The test client runs the app's lifespan (and so its pools) on another event loop; the loops
    get their own pools, on the test's loop, to the same database as the same login role."""
    db = Database(app.state.db.login_url, pool_size=2)
    await db.connect()
    state = State({"settings": app.state.settings, "plugins": app.state.plugins, "db": db})
    relay, send = alert_loops.build(state, policy=policy)
    assert isinstance(relay, outbox.OutboxRelay)
    assert isinstance(send, sender.DeliverySender)
    try:
        yield relay, send
    finally:
        await relay.stop()
        await send.stop()
        await db.close()


async def create_channel(
    client: httpx.AsyncClient, account: Account, type_: str, config: dict[str, Any],
    events: list[str] | None = None, **extra: Any,
) -> dict[str, Any]:
    response = await client.post("/api/v1/alerts/channels", headers=account.headers, json={
        "type": type_, "name": f"{type_}-{uuid.uuid4().hex[:6]}", "config": config,
        "events": events or ["run.failed"], **extra,
    })
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def deliveries(
    client: httpx.AsyncClient, account: Account, **params: str
) -> list[dict[str, Any]]:
    response = await client.get("/api/v1/alerts/deliveries", headers=account.headers,
                                params=params)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


@contextlib.contextmanager
def registered(app: Litestar, plugin: object, name: str | None = None) -> Iterator[object]:
    """Register a temporary plugin on ``app``'s manager; always unregistered afterwards."""
    pm = app.state.plugins
    pm.register(plugin, name=name)
    try:
        yield plugin
    finally:
        pm.unregister(plugin)

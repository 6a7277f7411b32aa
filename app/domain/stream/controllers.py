"""``GET /api/v1/stream``: live run/task/log changes of the caller's tenant as Server-Sent Events.

Events: ``ready`` (the current cursor), ``runs`` (``{"runs": [ids] | null, "logs": bool}`` —
``null`` means "many runs changed": refetch lists), ``workers`` (``{"workers": [ids] | null}``:
workers registered, stopped, were lost or came back; slots in use change with runs, so
``runs`` events cover them), ``reset`` (the client's ``Last-Event-ID`` is from another server
or too old: refetch what is shown). A comment every 15 s keeps proxies from
closing an idle stream. Browsers' EventSource reconnects by itself and sends ``Last-Event-ID``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from typing import Annotated

import msgspec
from litestar import Controller, get
from litestar.params import HeaderParameter
from litestar.response import ServerSentEvent, ServerSentEventMessage

from app.core.deps import Caller, EngineDep
from app.domain.auth.guards import requires
from app.domain.auth.principal import Permission
from app.engine.feed import Change, Hub

KEEPALIVE_SECONDS = 15.0


def _message(hub: Hub, change: Change) -> ServerSentEventMessage:
    if change.about_workers:
        data = msgspec.json.encode({"workers": change.workers}).decode()
        return ServerSentEventMessage(data=data, event="workers", id=hub.cursor(change))
    data = msgspec.json.encode({"runs": change.runs, "logs": change.logs}).decode()
    return ServerSentEventMessage(data=data, event="runs", id=hub.cursor(change))


async def _events(hub: Hub, tenant: str, cursor: str | None) -> AsyncGenerator[
    ServerSentEventMessage, None
]:
    with hub.subscribe(tenant) as queue:
        missed = hub.since(tenant, cursor)
        if missed is None:
            yield ServerSentEventMessage(data="{}", event="reset")
        for change in missed or []:
            yield _message(hub, change)
        yield ServerSentEventMessage(data="{}", event="ready", retry=2000)
        while True:
            try:
                item = await asyncio.wait_for(queue.get(), timeout=KEEPALIVE_SECONDS)
            except TimeoutError:
                yield ServerSentEventMessage(comment="keepalive")
                continue
            if item is None:  # the server is shutting down
                return
            yield _message(hub, item)


class StreamController(Controller):
    path = "/api/v1/stream"
    tags = ["stream"]

    @get("/", operation_id="streamChanges", guards=[requires(Permission.READ)],
         summary="Live changes of runs, tasks, logs and workers (Server-Sent Events)")
    async def stream(
        self, engine: EngineDep, principal: Caller,
        last_event_id: Annotated[str | None, HeaderParameter(
            name="Last-Event-ID", description="Resume after this event")] = None,
    ) -> ServerSentEvent:
        hub = engine.dispatcher.hub
        return ServerSentEvent(_events(hub, str(principal.tenant_id), last_event_id))

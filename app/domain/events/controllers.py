"""``/api/v1/events``: push events (one or a batch) and browse them with the runs they started."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

from litestar import Controller, get, post
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_201_CREATED

from app.core import pagination
from app.core.deps import DB, Caller, EngineDep
from app.domain.auth.guards import requires
from app.domain.auth.principal import Permission
from app.domain.events import schemas, services

BULK_MAX_BODY_BYTES = 16 * 1024 * 1024
"""A batch of up to 1,000 events may be larger than the default request limit."""


class EventController(Controller):
    path = "/api/v1/events"
    tags = ["events"]

    @post("/", operation_id="pushEvent", guards=[requires(Permission.TRIGGER)],
          status_code=HTTP_201_CREATED,
          summary="Store an event and start every workflow subscribed to its key")
    async def push(
        self, engine: EngineDep, principal: Caller, data: JSONBody[schemas.EventCreate]
    ) -> schemas.EventCreated:
        (created,) = await services.push(engine, principal, [data])
        return created

    @post("/bulk", operation_id="pushEvents", guards=[requires(Permission.TRIGGER)],
          status_code=HTTP_201_CREATED, request_max_body_size=BULK_MAX_BODY_BYTES,
          summary=f"Push up to {schemas.MAX_BULK} events in one transaction")
    async def push_bulk(
        self, engine: EngineDep, principal: Caller, data: JSONBody[schemas.BulkEventCreate]
    ) -> schemas.BulkEventsCreated:
        return schemas.BulkEventsCreated(await services.push(engine, principal, data.events))

    @get("/", operation_id="listEvents", guards=[requires(Permission.READ)],
         summary="Events, newest first, each with the runs it started")
    async def list_events(
        self, db: DB, principal: Caller,
        key: Annotated[str | None, QueryParameter(
            description="Event key, or a pattern with * (order:*)")] = None,
        source: Annotated[schemas.Source | None, QueryParameter(
            description="api or webhook")] = None,
        webhook_id: Annotated[uuid.UUID | None, QueryParameter(
            description="Only events received by this webhook")] = None,
        since: Annotated[dt.datetime | None, QueryParameter(
            description="Received at or after (ISO-8601)")] = None,
        until: Annotated[dt.datetime | None, QueryParameter(
            description="Received before (ISO-8601)")] = None,
        limit: pagination.Limit = None, cursor: pagination.Cursor = None,
    ) -> pagination.Page[schemas.Event]:
        return await services.list_events(
            db, principal, key=key, source=source, webhook_id=webhook_id, since=since,
            until=until, limit=limit, cursor=cursor)

    @get("/{event_id:uuid}", operation_id="getEvent", guards=[requires(Permission.READ)],
         summary="One event with the runs it started")
    async def get_event(
        self, db: DB, principal: Caller, event_id: FromPath[uuid.UUID]
    ) -> schemas.Event:
        return await services.get_event(db, principal, event_id)

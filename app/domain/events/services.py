"""Pushing events and reading them back."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import select

from app.core import pagination
from app.core.errors import NotFound
from app.db.database import Database
from app.db.models import WorkflowRun
from app.domain.auth.principal import Principal
from app.domain.events import ingest, matching, schemas
from app.domain.events.models import Event
from app.engine.runtime import Engine


def _new(item: schemas.EventCreate) -> ingest.NewEvent:
    return ingest.NewEvent(item.key, item.payload, item.metadata)


async def push(
    engine: Engine, principal: Principal, items: list[schemas.EventCreate]
) -> list[schemas.EventCreated]:
    """Store the events and start their workflows, all in one transaction."""
    async with engine.db.raw(principal.tenancy()) as conn:
        done = await ingest.ingest(engine.specs, conn, principal.tenant_id,
                                   [_new(item) for item in items])
    ingest.count_runs(engine, sum(len(e.run_ids) for e in done))
    return [schemas.EventCreated(e.id, e.key, e.run_ids) for e in done]


async def _triggered(
    db: Database, principal: Principal, events: list[Event]
) -> dict[uuid.UUID, schemas.TriggeredRun]:
    wanted = [run_id for event in events for run_id in event.run_ids]
    if not wanted:
        return {}
    async with db.transaction(principal.tenancy()) as s:
        rows = (await s.execute(
            select(WorkflowRun.id, WorkflowRun.workflow_name, WorkflowRun.status)
            .where(WorkflowRun.id.in_(wanted))
        )).all()
    return {row.id: schemas.TriggeredRun(row.id, row.workflow_name, row.status) for row in rows}


def _out(event: Event, runs: dict[uuid.UUID, schemas.TriggeredRun]) -> schemas.Event:
    return schemas.Event(
        id=event.id, key=event.key, payload=event.payload, metadata=event.metadata_,
        source=event.source,  # type: ignore[arg-type]  # CHECK constraint: 'api' or 'webhook'
        webhook_id=event.webhook_id, runs=list(event.run_ids),
        triggered=[runs[r] for r in event.run_ids if r in runs], created_at=event.created_at,
    )


async def list_events(
    db: Database, principal: Principal, *, key: str | None, source: str | None,
    webhook_id: uuid.UUID | None, since: dt.datetime | None, until: dt.datetime | None,
    limit: int | None, cursor: str | None,
) -> pagination.Page[schemas.Event]:
    """Events newest first; ``key`` may be a pattern with ``*``."""
    query, size = pagination.keyset(select(Event), Event.id, limit, cursor, newest_first=True)
    if key is not None:
        matching.check_pattern(key)
        if "*" in key:
            escaped = key.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            query = query.where(Event.key.like(escaped.replace("*", "%"), escape="\\"))
        else:
            query = query.where(Event.key == key)
    if source is not None:
        query = query.where(Event.source == source)
    if webhook_id is not None:
        query = query.where(Event.webhook_id == webhook_id)
    if since is not None:
        query = query.where(Event.created_at >= since)
    if until is not None:
        query = query.where(Event.created_at < until)
    async with db.transaction(principal.tenancy()) as s:
        events = list((await s.execute(query)).scalars().all())
    runs = await _triggered(db, principal, events[:size])
    return pagination.page([_out(e, runs) for e in events], [e.id for e in events], size)


async def get_event(db: Database, principal: Principal, event_id: uuid.UUID) -> schemas.Event:
    async with db.transaction(principal.tenancy()) as s:
        event = await s.get(Event, (principal.tenant_id, event_id))
    if event is None:
        raise NotFound(f"event {event_id} not found")
    return _out(event, await _triggered(db, principal, [event]))

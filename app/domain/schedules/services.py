"""Managing one-off schedules: create, list, reschedule, delete."""

from __future__ import annotations

import datetime as dt
import uuid

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import pagination
from app.core.errors import Conflict, Invalid, NotFound
from app.core.ids import uuid7
from app.db.database import Database
from app.domain.auth.principal import Principal
from app.domain.schedules import schemas
from app.domain.schedules.crons import workflow_id
from app.domain.schedules.models import Schedule
from app.domain.schedules.wakeup import timers_changed

STATUSES = ("pending", "fired", "failed")


def _aware(at: dt.datetime) -> dt.datetime:
    if at.tzinfo is None:
        raise Invalid("'at' needs a UTC offset, e.g. 2030-01-01T09:00:00Z")
    return at.astimezone(dt.UTC)


def _out(row: Schedule) -> schemas.Schedule:
    return schemas.Schedule(
        id=row.id, workflow=row.workflow_name, at=row.fire_at, input=row.input,
        metadata=row.metadata_,
        status=row.status,  # type: ignore[arg-type]  # CHECK: pending, fired or failed
        run_id=row.run_id, error=row.error, fired_at=row.fired_at, created_at=row.created_at,
        updated_at=row.updated_at,
    )


async def create(
    db: Database, principal: Principal, body: schemas.ScheduleCreate
) -> schemas.Schedule:
    at = _aware(body.at)
    now = dt.datetime.now(dt.UTC)
    async with db.transaction(principal.tenancy()) as s:
        row = Schedule(
            tenant_id=principal.tenant_id, id=uuid7(),
            workflow_id=await workflow_id(s, body.workflow), workflow_name=body.workflow,
            fire_at=at, input=body.input, metadata_=body.metadata, status="pending",
            created_by=principal.user_id, created_at=now, updated_at=now,
        )
        s.add(row)
        await timers_changed(s)
    return _out(row)


async def list_schedules(
    db: Database, principal: Principal, workflow: str | None, status: str | None,
    limit: int | None, cursor: str | None,
) -> pagination.Page[schemas.Schedule]:
    """Schedules in creation order (ids are time-ordered)."""
    query, size = pagination.keyset(select(Schedule), Schedule.id, limit, cursor)
    if workflow is not None:
        query = query.where(Schedule.workflow_name == workflow)
    if status is not None:
        if status not in STATUSES:
            raise Invalid(f"status must be one of {', '.join(STATUSES)}")
        query = query.where(Schedule.status == status)
    async with db.transaction(principal.tenancy()) as s:
        rows = list((await s.execute(query)).scalars())
    return pagination.page([_out(r) for r in rows], [r.id for r in rows], size)


async def _get(session: AsyncSession, principal: Principal, schedule_id: uuid.UUID) -> Schedule:
    # FOR UPDATE waits for a firer holding the row, so we see whether it fired.
    row = await session.get(Schedule, (principal.tenant_id, schedule_id), with_for_update=True)
    if row is None:
        raise NotFound(f"schedule {schedule_id} not found")
    return row


async def get(db: Database, principal: Principal, schedule_id: uuid.UUID) -> schemas.Schedule:
    async with db.transaction(principal.tenancy()) as s:
        row = await s.get(Schedule, (principal.tenant_id, schedule_id))
        if row is None:
            raise NotFound(f"schedule {schedule_id} not found")
        return _out(row)


async def update(
    db: Database, principal: Principal, schedule_id: uuid.UUID, body: schemas.ScheduleUpdate
) -> schemas.Schedule:
    async with db.transaction(principal.tenancy()) as s:
        row = await _get(s, principal, schedule_id)
        if row.status != "pending":
            raise Conflict(f"schedule {schedule_id} already {row.status}; create a new one")
        if body.at is not msgspec.UNSET:
            row.fire_at = _aware(body.at)
        if body.input is not msgspec.UNSET:
            row.input = body.input
        if body.metadata is not msgspec.UNSET:
            row.metadata_ = body.metadata
        row.updated_at = dt.datetime.now(dt.UTC)
        await timers_changed(s)
    return _out(row)


async def delete(db: Database, principal: Principal, schedule_id: uuid.UUID) -> None:
    """Delete a schedule; a pending one then never fires."""
    async with db.transaction(principal.tenancy()) as s:
        await s.delete(await _get(s, principal, schedule_id))

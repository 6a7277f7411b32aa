"""Managing crons: create, list (with the next fire times), change, delete."""

from __future__ import annotations

import datetime as dt
import uuid

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import pagination
from app.core.errors import Conflict, NotFound
from app.core.ids import uuid7
from app.db.database import Database
from app.db.models import Workflow
from app.domain.auth.principal import Principal
from app.domain.schedules import cron, schemas
from app.domain.schedules.models import Cron
from app.domain.schedules.wakeup import timers_changed


async def workflow_id(session: AsyncSession, name: str) -> uuid.UUID:
    found = (await session.execute(select(Workflow.id).where(Workflow.name == name))).scalar()
    if found is None:
        raise NotFound(f"workflow {name!r} is not registered (start a worker that defines it)")
    return found


def _out(row: Cron) -> schemas.Cron:
    upcoming: list[dt.datetime] = []
    if row.enabled:
        start = row.next_fire_at
        if start is None:
            upcoming = cron.upcoming(row.expression, row.timezone, dt.datetime.now(dt.UTC),
                                     schemas.UPCOMING)
        else:
            upcoming = [start, *cron.upcoming(row.expression, row.timezone, start,
                                              schemas.UPCOMING - 1)]
    return schemas.Cron(
        id=row.id, workflow=row.workflow_name,
        source=row.source,  # type: ignore[arg-type]  # CHECK: 'api' or 'workflow'
        expression=row.expression, timezone=row.timezone, input=row.input,
        metadata=row.metadata_, enabled=row.enabled,
        missed=row.missed,  # type: ignore[arg-type]  # CHECK: 'run_once' or 'skip'
        next_fire_at=row.next_fire_at if row.enabled else None, upcoming=upcoming,
        last_fired_at=row.last_fired_at, last_run_id=row.last_run_id, last_error=row.last_error,
        fire_count=row.fire_count, created_at=row.created_at, updated_at=row.updated_at,
    )


async def create(db: Database, principal: Principal, body: schemas.CronCreate) -> schemas.Cron:
    expression = cron.validate(body.expression, body.timezone)
    now = dt.datetime.now(dt.UTC)
    async with db.transaction(principal.tenancy()) as s:
        row = Cron(
            tenant_id=principal.tenant_id, id=uuid7(),
            workflow_id=await workflow_id(s, body.workflow), workflow_name=body.workflow,
            source="api", expression=expression, timezone=body.timezone, input=body.input,
            metadata_=body.metadata, enabled=body.enabled, missed=body.missed,
            next_fire_at=cron.next_after(expression, body.timezone, now),
            created_by=principal.user_id, created_at=now, updated_at=now,
        )
        s.add(row)
        await timers_changed(s)
    return _out(row)


async def list_crons(
    db: Database, principal: Principal, workflow: str | None, limit: int | None,
    cursor: str | None,
) -> pagination.Page[schemas.Cron]:
    query, size = pagination.keyset(select(Cron), Cron.id, limit, cursor)
    if workflow is not None:
        query = query.where(Cron.workflow_name == workflow)
    async with db.transaction(principal.tenancy()) as s:
        rows = list((await s.execute(query)).scalars())
    return pagination.page([_out(r) for r in rows], [r.id for r in rows], size)


async def _get(session: AsyncSession, principal: Principal, cron_id: uuid.UUID) -> Cron:
    row = await session.get(Cron, (principal.tenant_id, cron_id), with_for_update=True)
    if row is None:
        raise NotFound(f"cron {cron_id} not found")
    return row


async def get(db: Database, principal: Principal, cron_id: uuid.UUID) -> schemas.Cron:
    async with db.transaction(principal.tenancy()) as s:
        return _out(await _get(s, principal, cron_id))


async def update(
    db: Database, principal: Principal, cron_id: uuid.UUID, body: schemas.CronUpdate
) -> schemas.Cron:
    changes = {k: v for k, v in msgspec.structs.asdict(body).items() if v is not msgspec.UNSET}
    async with db.transaction(principal.tenancy()) as s:
        row = await _get(s, principal, cron_id)
        if row.source == "workflow" and set(changes) - {"enabled"}:
            raise Conflict("this cron comes from the workflow's on_crons: only 'enabled' can "
                           "change here; change the workflow's code for the rest")
        timezone = changes.get("timezone", row.timezone)
        expression = cron.validate(changes.get("expression", row.expression), timezone)
        retime = (expression != row.expression or timezone != row.timezone
                  or (changes.get("enabled") and not row.enabled))
        row.expression, row.timezone = expression, timezone
        if "input" in changes:
            row.input = changes["input"]
        if "metadata" in changes:
            row.metadata_ = changes["metadata"]
        for name in ("enabled", "missed"):
            if name in changes:
                setattr(row, name, changes[name])
        now = dt.datetime.now(dt.UTC)
        if retime:  # ticks missed while disabled are not caught up
            row.next_fire_at = cron.next_after(expression, timezone, now)
            row.last_error = None
        row.updated_at = now
        await timers_changed(s)
    return _out(row)


async def delete(db: Database, principal: Principal, cron_id: uuid.UUID) -> None:
    async with db.transaction(principal.tenancy()) as s:
        row = await _get(s, principal, cron_id)
        if row.source == "workflow":
            raise Conflict("this cron comes from the workflow's on_crons: remove it from the "
                           "code (or disable it here)")
        await s.delete(row)

"""Worker registration and listing; the protocol's hot calls go straight to the engine."""

from __future__ import annotations

import datetime as dt
import uuid

import msgspec
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import pagination
from app.core.errors import Invalid, NotFound
from app.core.ids import uuid7
from app.db.database import Database
from app.db.models import TaskRun, Worker
from app.domain.auth.principal import Principal
from app.domain.workers import schemas
from app.engine import feed
from app.engine.queue.claim import LogLine
from app.engine.queue.results import Result
from app.engine.runtime import Engine


async def register(
    db: Database, engine: Engine, principal: Principal, body: schemas.WorkerRegister
) -> schemas.WorkerRegistered:
    for action in body.actions:
        workflow, sep, task = action.partition(":")
        if not sep or not workflow or not task:
            raise Invalid(f"action {action!r} must be '<workflow>:<task>'")
    worker_id = uuid7()
    async with db.transaction(principal.tenancy()) as s:
        s.add(Worker(tenant_id=principal.tenant_id, id=worker_id, name=body.name,
                     actions=sorted(set(body.actions)), slots=body.slots,
                     labels=dict(body.labels), status="active"))
        await _announce(s, principal, worker_id)
    config = engine.config
    return schemas.WorkerRegistered(
        id=worker_id, heartbeat_interval=config.heartbeat_interval,
        lease_seconds=config.lease_seconds, max_poll_wait=config.max_poll_wait,
    )


async def stop(db: Database, principal: Principal, worker_id: uuid.UUID) -> None:
    async with db.transaction(principal.tenancy()) as s:
        result = await s.execute(update(Worker).where(Worker.id == worker_id).values(
            status="stopped", stopped_at=func.now()).returning(Worker.id))
        if result.first() is None:
            raise NotFound(f"worker {worker_id} not found")
        # Wake the tenant's parked polls on every replica: the stopped worker's own poll then
        # sees it is stopped and returns empty instead of claiming.
        await s.execute(select(func.pg_notify("kiln_queue", str(principal.tenant_id))))
        await _announce(s, principal, worker_id)


async def _announce(s: AsyncSession, principal: Principal, worker_id: uuid.UUID) -> None:
    """Tell the dashboard's live streams (at commit) that this worker registered or stopped."""
    payload = feed.workers_payload(principal.tenant_id, [worker_id])
    await s.execute(select(func.pg_notify(feed.CHANNEL, payload)))


async def list_workers(
    db: Database, principal: Principal, limit: int | None, cursor: str | None
) -> pagination.Page[schemas.Worker]:
    size = pagination.check_limit(limit)
    after = pagination.decode_cursor(cursor)
    query = select(Worker).order_by(Worker.id.desc()).limit(size + 1)
    if after is not None:
        query = query.where(Worker.id < after)
    async with db.transaction(principal.tenancy()) as s:
        workers = (await s.execute(query)).scalars().all()
        running = dict((await s.execute(
            select(TaskRun.worker_id, func.count()).where(
                TaskRun.status == "running", TaskRun.worker_id.in_([w.id for w in workers]))
            .group_by(TaskRun.worker_id))).tuples().all())
    items = [schemas.Worker(
        id=w.id, name=w.name, status=w.status, slots=w.slots, actions=w.actions,
        labels=w.labels, registered_at=w.registered_at, last_heartbeat_at=w.last_heartbeat_at,
        running=running.get(w.id, 0)) for w in workers]
    return pagination.page(items, [w.id for w in workers], size)


def to_results(body: schemas.ResultsRequest) -> list[Result]:
    results = []
    for r in body.results:
        output_json = None
        if r.status == "succeeded":
            output_json = msgspec.json.encode(r.output).decode()
        results.append(Result(
            task_run_id=r.task_run_id, lease_id=r.lease_id, outcome=r.status,
            output_json=output_json, error=r.error, traceback=r.traceback,
            retryable=r.retryable,
        ))
    return results


def to_log_lines(body: schemas.LogsRequest) -> list[LogLine]:
    now = dt.datetime.now(dt.UTC)
    return [LogLine(task_run_id=x.task_run_id, lease_id=x.lease_id, at=x.at or now,
                    level=x.level, message=x.message) for x in body.lines]

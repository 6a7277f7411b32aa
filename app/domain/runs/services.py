"""Triggering runs and reading them back."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from app.core import pagination
from app.core.errors import Conflict, Invalid, NotFound
from app.db.database import Database
from app.db.models import TaskAttempt, TaskLog, TaskRun, WorkflowRun, WorkflowVersion
from app.domain.auth.principal import Principal
from app.domain.durable import services as durable
from app.domain.runs import queries, schemas
from app.engine.queue.trigger import RunRequest, Triggered
from app.engine.runtime import Engine


async def trigger_one(
    engine: Engine, principal: Principal, workflow: str, body: schemas.RunCreate,
    idempotency_key: str | None,
) -> Triggered:
    if idempotency_key is not None and not 1 <= len(idempotency_key) <= 255:
        raise Invalid("Idempotency-Key must be 1 to 255 characters")
    request = RunRequest(input=body.input, metadata=body.metadata,
                         priority=body.priority, idempotency_key=idempotency_key)
    (triggered,) = await engine.trigger(principal.tenant_id, workflow, [request])
    return triggered


async def trigger_bulk(
    engine: Engine, principal: Principal, workflow: str, body: schemas.BulkRunCreate
) -> list[uuid.UUID]:
    requests = [RunRequest(input=item.input, metadata=item.metadata,
                           priority=item.priority, idempotency_key=item.key)
                for item in body.runs]
    return [t.run_id for t in await engine.trigger(principal.tenant_id, workflow, requests)]


def _waiting_for(task: TaskRun, parents: list[str]) -> str | None:
    if task.status == "pending" and task.retry_at is not None:
        return f"retry at {task.retry_at.isoformat()}"
    if task.status == "pending" and task.pending_parents:
        return f"{task.pending_parents} of {len(parents)} parent(s): " + ", ".join(parents)
    if task.status == "pending" and task.wait_reason:  # a suspended durable task
        return task.wait_reason
    if task.status == "queued":
        return task.wait_reason or "a free worker slot for " + task.action
    return None


def _succeeded_attempt(task: TaskRun, history: list[schemas.Attempt]) -> schemas.Attempt | None:
    """A succeeded task's last attempt, which has no history row: the task row is it
    (finish_tasks; a replay writes the row before reopening the task)."""
    if task.status != "succeeded" or task.started_at is None or task.finished_at is None:
        return None
    if any(a.attempt == task.attempt for a in history):
        return None
    return schemas.Attempt(attempt=task.attempt, status="succeeded", worker_id=task.worker_id,
                           started_at=task.started_at, finished_at=task.finished_at,
                           error=None, traceback=None)


async def get_run(
    db: Database, engine: Engine, principal: Principal, run_id: uuid.UUID
) -> schemas.Run:
    async with db.transaction(principal.tenancy()) as s:
        run = await s.get(WorkflowRun, (principal.tenant_id, run_id))
        if run is None:
            raise NotFound(f"run {run_id} not found")
        tasks = (await s.execute(select(TaskRun).where(TaskRun.run_id == run_id)
                                 .order_by(TaskRun.id))).scalars().all()
        attempts = (await s.execute(select(TaskAttempt).where(TaskAttempt.run_id == run_id)
                                    .order_by(TaskAttempt.attempt))).scalars().all()
        version = await s.get(WorkflowVersion, (principal.tenant_id, run.version_id))
        durable_calls = await durable.progress(s, [t.id for t in tasks])
    assert version is not None
    spec = engine.specs.get(version.id) or engine.specs.add(version.id, version.definition)
    by_task: dict[uuid.UUID, list[schemas.Attempt]] = {}
    for a in attempts:
        by_task.setdefault(a.task_run_id, []).append(schemas.Attempt(
            attempt=a.attempt, status=a.status, worker_id=a.worker_id, started_at=a.started_at,
            finished_at=a.finished_at, error=a.error, traceback=a.traceback))
    for t in tasks:
        history = by_task.setdefault(t.id, [])
        if (last := _succeeded_attempt(t, history)) is not None:
            history.append(last)
    summary = queries.summary(run)
    return schemas.Run(
        **{f: getattr(summary, f) for f in summary.__struct_fields__},
        version=version.version, input=run.input, output=run.output,
        tasks=[schemas.TaskState(
            id=t.id, name=t.task_name, status=t.status, attempt=t.attempt,
            parents=list(spec.task(t.task_name).parents), output=t.output, error=t.error,
            worker_id=t.worker_id, queued_at=t.queued_at, started_at=t.started_at,
            finished_at=t.finished_at, retry_at=t.retry_at,
            waiting_for=_waiting_for(t, list(spec.task(t.task_name).parents)),
            attempts=by_task[t.id], durable=durable_calls.get(t.id, []),
        ) for t in tasks],
    )


async def cancel_one(
    db: Database, engine: Engine, principal: Principal, run_id: uuid.UUID
) -> schemas.Run:
    cancelled = await engine.cancel(principal.tenant_id, [run_id])
    run = await get_run(db, engine, principal, run_id)
    if run_id not in cancelled and run.status in ("succeeded", "failed", "cancelled"):
        raise Conflict(f"run {run_id} already finished ({run.status})")
    return run


async def cancel_many(
    db: Database, engine: Engine, principal: Principal, selection: schemas.BulkSelection
) -> schemas.Affected:
    ids = await queries.select_ids(db, principal, selection)
    cancelled = await engine.cancel(principal.tenant_id, ids) if ids else set()
    return schemas.Affected(ids=[i for i in ids if i in cancelled],
                            skipped=[i for i in ids if i not in cancelled])


async def replay_many(
    db: Database, engine: Engine, principal: Principal, selection: schemas.BulkSelection
) -> schemas.Affected:
    done, skipped = [], []
    for run_id in await queries.select_ids(db, principal, selection):
        try:
            await engine.replay(principal.tenant_id, run_id, None)
            done.append(run_id)
        except (Conflict, NotFound):
            skipped.append(run_id)
    return schemas.Affected(ids=done, skipped=skipped)


async def task_logs(
    db: Database, principal: Principal, run_id: uuid.UUID, task: str,
    limit: int | None, cursor: str | None,
) -> pagination.Page[schemas.LogLine]:
    size = pagination.check_limit(limit)
    after = int(cursor) if cursor and cursor.isdigit() else None
    if cursor and after is None:
        raise Invalid("cursor is not valid; pass the next_cursor of a previous page")
    async with db.transaction(principal.tenancy()) as s:
        task_row = (await s.execute(select(TaskRun).where(
            TaskRun.run_id == run_id, TaskRun.task_name == task))).scalar_one_or_none()
        if task_row is None:
            raise NotFound(f"task {task!r} of run {run_id} not found")
        query = select(TaskLog).where(TaskLog.task_run_id == task_row.id).order_by(
            TaskLog.id).limit(size + 1)
        if after is not None:
            query = query.where(TaskLog.id > after)
        lines = (await s.execute(query)).scalars().all()
    items = [schemas.LogLine(at=x.at, level=x.level, message=x.message, attempt=x.attempt)
             for x in lines[:size]]
    return pagination.Page(items=items,
                           next_cursor=str(lines[size - 1].id) if len(lines) > size else None)

"""Durable tasks seen from the API: the worker routes' transactions, the log a resumed
assignment carries, and each task's progress on the run page."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.tenancy import TenantContext
from app.domain.durable import schemas
from app.domain.workers.schemas import DurableEntry
from app.engine.durable import log, waits
from app.engine.queue.claim import Assignment
from app.engine.runtime import Engine


async def record_step(
    engine: Engine, tenant_id: uuid.UUID, body: schemas.StepRecord
) -> schemas.LogEntry:
    async with engine.db.raw(TenantContext(tenant_id)) as conn:
        entry = await log.record(conn, tenant_id, body.task_run_id, body.lease_id,
                                 log.Entry(body.seq, body.kind, body.name, body.result))
    return schemas.LogEntry(entry.seq, entry.kind, entry.name, entry.result)


async def wait(
    engine: Engine, tenant_id: uuid.UUID, body: schemas.WaitRegister
) -> schemas.WaitReply:
    async with engine.db.raw(TenantContext(tenant_id)) as conn:
        outcome = await waits.register(conn, tenant_id, waits.WaitRequest(
            body.task_run_id, body.lease_id, body.seq, body.name, body.conditions,
            body.timeout))
    if outcome.satisfied:
        return schemas.WaitReply(satisfied=True, result=outcome.result)
    return schemas.WaitReply(suspended=True)


async def resumed_logs(
    engine: Engine, tenant_id: uuid.UUID, tasks: Sequence[Assignment]
) -> dict[uuid.UUID, list[DurableEntry]]:
    """The durable logs of claimed tasks that ran before (a first attempt has none, so a
    poll of fresh tasks costs no query)."""
    again = [t.task_run_id for t in tasks if t.attempt > 1]
    if not again:
        return {}
    async with engine.db.raw(TenantContext(tenant_id)) as conn:
        found = await log.logs_for(conn, tenant_id, again)
    return {task_id: [DurableEntry(e.seq, e.kind, e.name, e.result) for e in entries]
            for task_id, entries in found.items()}


async def progress(
    session: AsyncSession, task_run_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[dict[str, Any]]]:
    """Each durable task's calls so far: logged ones ``done``, an open wait ``waiting``."""
    found: dict[uuid.UUID, list[dict[str, Any]]] = {}
    if not task_run_ids:
        return found
    rows = (await session.execute(text(
        "SELECT task_run_id, seq, kind, name, 'done' AS status FROM durable_log"
        " WHERE task_run_id = ANY(:ids) AND seq > 0"  # not a replay's restart marker
        " UNION ALL"
        " SELECT w.task_run_id, w.seq, w.kind, w.name, 'waiting' FROM durable_waits w"
        " WHERE w.task_run_id = ANY(:ids) AND w.satisfied_at IS NULL"
        " AND w.mode <> 'dag'"  # a task's DAG conditions show as its waiting_for instead
        " ORDER BY 1, 2"), {"ids": task_run_ids})).all()
    for row in rows:
        found.setdefault(row.task_run_id, []).append(
            {"seq": row.seq, "kind": row.kind, "name": row.name, "status": row.status})
    return found

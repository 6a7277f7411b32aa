"""Leasing ready tasks to a worker; heartbeats; task logs."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from app.engine import feed, queries
from app.engine.queue.specs import spec_for
from app.engine.spec import SpecCache


@dataclass(slots=True)
class Assignment:
    task_run_id: uuid.UUID
    lease_id: uuid.UUID
    run_id: uuid.UUID
    workflow: str
    task: str
    action: str
    attempt: int
    input: Any
    metadata: dict[str, Any]
    parents: dict[str, Any]
    execution_timeout: float
    errors: dict[str, str] = field(default_factory=dict)
    """For an on-failure task: the error of each failed task of the run."""


async def claim(
    cache: SpecCache, conn: asyncpg.Connection, tenant_id: uuid.UUID, worker_id: uuid.UUID,
    actions: list[str], limit: int, lease_seconds: float,
) -> list[Assignment]:
    """Lease up to ``limit`` tasks (in the caller's transaction)."""
    rows = await conn.fetch(
        queries.get("claim"), tenant_id, actions, limit, worker_id, lease_seconds
    )
    if not rows:
        return []
    run_ids = list({row["run_id"] for row in rows})
    await feed.publish(conn, [(tenant_id, run_id) for run_id in run_ids])
    runs = {r["id"]: r for r in await conn.fetch(queries.get("start_runs"), tenant_id, run_ids)}
    wanted: dict[uuid.UUID, tuple[str, ...]] = {}
    for row in rows:
        run = runs[row["run_id"]]
        spec = await spec_for(cache, conn, tenant_id, run["version_id"])
        parents = spec.task(row["task_name"]).parents
        if parents:
            wanted[row["id"]] = parents
    outputs: dict[tuple[uuid.UUID, str], Any] = {}
    if wanted:
        parent_runs = list({row["run_id"] for row in rows if row["id"] in wanted})
        names = list({name for names in wanted.values() for name in names})
        for r in await conn.fetch(queries.get("parent_outputs"), tenant_id, parent_runs, names):
            outputs[(r["run_id"], r["task_name"])] = r["output"]
    errors: dict[uuid.UUID, dict[str, str]] = {}
    failing = list({row["run_id"] for row in rows if row["kind"] == "on_failure"})
    if failing:
        for r in await conn.fetch(queries.get("failed_task_errors"), tenant_id, failing):
            errors.setdefault(r["run_id"], {})[r["task_name"]] = r["error"] or ""
    return [
        Assignment(
            task_run_id=row["id"], lease_id=row["lease_id"], run_id=row["run_id"],
            workflow=runs[row["run_id"]]["workflow_name"], task=row["task_name"],
            action=row["action"], attempt=row["attempt"], input=runs[row["run_id"]]["input"],
            metadata=runs[row["run_id"]]["metadata"],
            parents={name: outputs.get((row["run_id"], name))
                     for name in wanted.get(row["id"], ())},
            execution_timeout=row["execution_timeout"],
            errors=errors.get(row["run_id"], {}) if row["kind"] == "on_failure" else {},
        )
        for row in rows
    ]


async def refresh_deadline(
    conn: asyncpg.Connection, tenant_id: uuid.UUID, task_run_id: uuid.UUID,
    lease_id: uuid.UUID, seconds: float,
) -> bool:
    """Extend a running task's execution timeout; False when the lease is not current."""
    return await conn.fetchval(
        queries.get("refresh_deadline"), tenant_id, task_run_id, lease_id, seconds
    ) is not None


async def touch_worker(
    conn: asyncpg.Connection, tenant_id: uuid.UUID, worker_id: uuid.UUID
) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await conn.fetchrow(
        queries.get("touch_worker"), tenant_id, worker_id
    )
    return row


async def extend_leases(
    conn: asyncpg.Connection, tenant_id: uuid.UUID, worker_id: uuid.UUID,
    held: list[tuple[uuid.UUID, uuid.UUID]], lease_seconds: float,
) -> set[uuid.UUID]:
    """Extend the leases still held; return the ids whose lease is gone (stop those tasks)."""
    if not held:
        return set()
    kept = {row["id"] for row in await conn.fetch(
        queries.get("extend_leases"), tenant_id, [t for t, _ in held], [lease for _, lease in held],
        lease_seconds, worker_id,
    )}
    return {task_id for task_id, _ in held} - kept


@dataclass(slots=True)
class LogLine:
    task_run_id: uuid.UUID
    lease_id: uuid.UUID
    at: dt.datetime
    level: str
    message: str


async def insert_logs(conn: asyncpg.Connection, tenant_id: uuid.UUID, lines: list[LogLine]) -> None:
    if lines:
        rows = await conn.fetch(
            queries.get("insert_logs"), tenant_id, [line.task_run_id for line in lines],
            [line.lease_id for line in lines], [line.at for line in lines],
            [line.level for line in lines], [line.message for line in lines],
        )
        await feed.publish(conn, [(tenant_id, row["run_id"]) for row in rows], logs=True)

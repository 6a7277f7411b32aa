"""Leasing ready tasks to a worker (plain tasks here, flow-controlled ones through
:mod:`app.engine.flow.claim`); heartbeats; task logs."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from app.engine import feed, queries
from app.engine.flow import claim as flow_claim
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
    skipped: list[str] = field(default_factory=list)
    """Parents that were skipped by their conditions (their output is None)."""


@dataclass(slots=True)
class Claimed:
    tasks: list[Assignment]
    retry_in: float | None = None
    """Seconds until a flow-controlled task held back for now (rate limit, preference) may
    pass: a parked poll claims again then, without a notification."""
    flow_waiting: bool = False
    """Flow-controlled tasks of these actions are queued."""
    plain: int | None = None
    """Plain tasks leased; None when the plain lane was not asked (the flow lane filled up)."""
    worker_gone: bool = False
    """The plain claim found the worker stopped (or unknown): nothing was leased."""


async def claim(
    cache: SpecCache, conn: asyncpg.Connection, tenant_id: uuid.UUID, worker_id: uuid.UUID,
    actions: list[str], limit: int, lease_seconds: float,
    flow: flow_claim.FlowContext | None = None, flow_first: bool = False,
) -> Claimed:
    """Lease up to ``limit`` tasks (in the caller's transaction).

    Plain tasks come from ``queue_items`` in one statement that also checks (and touches) the
    worker and says whether flow-controlled tasks wait for these actions; only then does the
    flow lane run
    (:mod:`app.engine.flow.claim`). ``flow_first`` offers the flow lane first and asks the
    plain statement only for the slots it left (the engine picks the order per worker, so
    neither lane starves the other: ``Engine._next_lane``).
    """
    rows: list[asyncpg.Record] = []
    retry_in: float | None = None
    flow_waiting = False
    if flow is not None and flow_first:
        lane = await flow_claim.claim(cache, conn, tenant_id, flow, actions, limit, lease_seconds)
        rows.extend(lane.rows)
        retry_in = lane.retry_in
        flow_waiting = True
    plain: int | None = None  # plain tasks leased; None: the plain lane was not asked
    if len(rows) < limit:
        found = await conn.fetch(queries.get("claim"), tenant_id, actions, limit - len(rows),
                                 worker_id, lease_seconds)
        if not found[0]["worker_alive"]:
            return Claimed(await _assignments(cache, conn, tenant_id, rows), retry_in,
                           flow_waiting, 0, worker_gone=True)
        flow_waiting = flow_waiting or bool(found[0]["flow_waiting"])
        leased = [row for row in found if row["id"] is not None]
        plain = len(leased)
        rows.extend(leased)
        if flow is not None and not flow_first and flow_waiting and len(rows) < limit:
            lane = await flow_claim.claim(cache, conn, tenant_id, flow, actions,
                                          limit - len(rows), lease_seconds)
            rows.extend(lane.rows)
            retry_in = lane.retry_in
    return Claimed(await _assignments(cache, conn, tenant_id, rows), retry_in, flow_waiting,
                   plain)


async def _assignments(
    cache: SpecCache, conn: asyncpg.Connection, tenant_id: uuid.UUID, rows: list[asyncpg.Record],
) -> list[Assignment]:
    """What the worker needs for each leased task: the run's input and metadata, parent
    outputs, and for an on-failure task the errors of the failed ones."""
    if not rows:
        return []
    # The plain claim returns its runs' columns (and started them); flow-lane rows do not.
    runs: dict[uuid.UUID, Any] = {row["run_id"]: row for row in rows if "version_id" in row}
    others = list({row["run_id"] for row in rows} - runs.keys())
    if others:
        runs.update((r["id"], r) for r in await conn.fetch(
            queries.get("start_runs"), tenant_id, others))
    wanted: dict[uuid.UUID, tuple[str, ...]] = {}
    for row in rows:
        run = runs[row["run_id"]]
        spec = await spec_for(cache, conn, tenant_id, run["version_id"])
        parents = spec.task(row["task_name"]).parents
        if parents:
            wanted[row["id"]] = parents
    outputs: dict[tuple[uuid.UUID, str], Any] = {}
    skipped: set[tuple[uuid.UUID, str]] = set()
    if wanted:
        parent_runs = list({row["run_id"] for row in rows if row["id"] in wanted})
        names = list({name for names in wanted.values() for name in names})
        for r in await conn.fetch(queries.get("parent_outputs"), tenant_id, parent_runs, names):
            outputs[(r["run_id"], r["task_name"])] = r["output"]
            if r["status"] == "skipped":
                skipped.add((r["run_id"], r["task_name"]))
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
            skipped=[name for name in wanted.get(row["id"], ())
                     if (row["run_id"], name) in skipped],
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

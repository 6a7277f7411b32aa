"""Operator actions on runs: cancel (with their child runs) and replay."""

from __future__ import annotations

import uuid

import asyncpg

from app.core.errors import Conflict, Invalid, NotFound
from app.engine import feed, queries
from app.engine.durable import dag_waits
from app.engine.queue.results import (
    DEFAULT_EVENTS,
    Change,
    decided_changes,
    enqueue,
    propagate,
    record_attempts,
)
from app.engine.queue.specs import spec_for
from app.engine.spec import SpecCache

TERMINAL = ("succeeded", "failed", "cancelled")
CANCEL_REASON = "cancelled by request"


async def cancel(
    cache: SpecCache, conn: asyncpg.Connection, tenant_id: uuid.UUID, run_ids: list[uuid.UUID],
    events: frozenset[str] = DEFAULT_EVENTS,
) -> set[uuid.UUID]:
    """Cancel runs and their descendants; return the runs that had something to cancel."""
    tree = [row["id"] for row in await conn.fetch(queries.get("run_tree"), tenant_id, run_ids)]
    rows = await conn.fetch(queries.get("cancel_run_tasks"), tenant_id, tree, CANCEL_REASON)
    queued = [r for r in rows if r["was"] == "queued"]
    if queued:
        await conn.execute(queries.get("dequeue"), tenant_id, [r["action"] for r in queued],
                           [r["id"] for r in queued])
    running = [r for r in rows if r["was"] == "running"]
    if running:
        await record_attempts(conn, [
            (r["tenant_id"], r["id"], r["attempt"], r["run_id"], r["worker_id"], "cancelled",
             r["started_at"], CANCEL_REASON, None) for r in running
        ])
    await propagate(cache, conn, [
        Change(tenant_id=r["tenant_id"], task_run_id=r["id"], run_id=r["run_id"],
               task_name=r["task_name"], status="cancelled", action=r["action"],
               priority=r["priority"], attempt=r["attempt"], error=r["error"],
               cascade=r["was"] != "running")
        for r in rows
    ], events)
    return {r["run_id"] for r in rows}


async def replay(
    cache: SpecCache, conn: asyncpg.Connection, tenant_id: uuid.UUID, run_id: uuid.UUID,
    from_task: str | None,
) -> None:
    """Run a finished run again — whole, or from ``from_task`` and its descendants (the other
    tasks keep their outputs) — as new attempts of the same run and workflow version."""
    run = await conn.fetchrow(queries.get("lock_run"), tenant_id, run_id)
    if run is None:
        raise NotFound(f"run {run_id} not found")
    if run["status"] not in TERMINAL:
        raise Conflict(f"run {run_id} is {run['status']}: only finished runs can be replayed "
                       "(cancel it first)")
    spec = await spec_for(cache, conn, tenant_id, run["version_id"])
    states = {r["task_name"]: r["status"] for r in
              await conn.fetch(queries.get("run_task_states"), tenant_id, run_id)}
    if from_task is None:
        reset = {name for name, task in spec.tasks.items() if task.kind == "task"}
    else:
        task = spec.tasks.get(from_task)
        if task is None or task.kind != "task":
            raise Invalid(f"workflow {spec.name!r} has no task {from_task!r} to replay from")
        unfinished = [p for p in task.parents if states.get(p) not in ("succeeded", "skipped")]
        if unfinished:
            raise Invalid(f"cannot replay from {from_task!r}: parent(s) {', '.join(unfinished)} "
                          "did not succeed; replay from an earlier task")
        reset = {from_task, *task.descendants}
    if spec.on_failure is not None:
        reset.add(spec.on_failure)
    names, statuses, waiting, budgets = [], [], [], []
    for name in sorted(reset):
        task = spec.tasks[name]
        pending = sum(1 for parent in task.parents if parent in reset)
        names.append(name)
        statuses.append("queued" if pending == 0 and task.kind == "task" else "pending")
        waiting.append(pending)
        budgets.append(task.max_attempts)
    rows = await conn.fetch(queries.get("reset_tasks"), tenant_id, run_id, names, statuses,
                            waiting, budgets)
    await conn.execute(queries.get("reopen_run"), tenant_id, run_id, len(rows))
    # Durable tasks start over (docs/durable.md): a replay that replayed their logs would
    # return the recorded results and do nothing new.
    restarted = await conn.fetch(queries.get("durable_forget"), tenant_id,
                                 [r["id"] for r in rows])
    if restarted:
        await conn.execute(queries.get("durable_mark_restart"), tenant_id,
                           [r["task_run_id"] for r in restarted])
    await feed.publish(conn, [(tenant_id, run_id)])
    # Tasks with DAG conditions decide them again (reset `queued` without a queue row, like
    # roots at trigger time): docs/durable.md, "Conditions in DAGs".
    ready = [r for r in rows if r["status"] == "queued"]
    await enqueue(conn, [r for r in ready if spec.tasks[r["task_name"]].conditions is None])
    conditioned = [spec.tasks[r["task_name"]] for r in ready]
    decided = await dag_waits.open_ready(conn, [
        dag_waits.Ready(tenant_id, r["id"], run_id, task.name, task.parents, task.conditions,
                        expected="queued")
        for r, task in zip(ready, conditioned, strict=True) if task.conditions is not None])
    await propagate(cache, conn, decided_changes(decided))

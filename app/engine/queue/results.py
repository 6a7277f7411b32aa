"""Applying results, and everything a task's state change implies, in the caller's transaction.

:func:`propagate` is shared by worker results, the sweeps and cancellation: children released,
descendants cancelled, runs counted down and finished, outbox events written, pollers woken.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import asyncpg
import msgspec

from app.engine import feed, queries
from app.engine.durable import dag_waits
from app.engine.queue.specs import spec_for
from app.engine.spec import SpecCache, TaskSpec

TERMINAL = frozenset({"succeeded", "failed", "cancelled", "skipped"})
DEFAULT_EVENTS = frozenset({
    "run.succeeded", "run.failed", "run.cancelled", "task.failed", "task.retrying",
    "task.cancelled", "task.timed_out", "worker.lost",
})
RUN_EVENTS = ("run.succeeded", "run.failed", "run.cancelled")
"""A finished run's event: ``run.<status>``, written by ``count_down_runs`` itself (the payload
and the rules of :func:`write_outbox`, in SQL)."""
SUBSCRIBED_ONLY = frozenset({"run.succeeded"})
"""Events written (when not in the engine's ``events``: no plugin implements their hook) only
for tenants with an alert channel subscribed to them: ``run.succeeded`` is one row per run, and
nothing reads it otherwise (ops/bench/profile.md §3)."""


@dataclass(slots=True)
class Result:
    task_run_id: uuid.UUID
    lease_id: uuid.UUID
    outcome: str  # succeeded | failed | released
    output_json: str | None = None
    error: str | None = None
    traceback: str | None = None
    retryable: bool = True


@dataclass(slots=True)
class Change:
    """A task that moved to ``status``; ``event`` overrides the outbox event it implies."""

    tenant_id: uuid.UUID
    task_run_id: uuid.UUID
    run_id: uuid.UUID
    task_name: str
    status: str
    action: str = ""
    priority: int = 2
    attempt: int = 0
    error: str | None = None
    version_id: uuid.UUID | None = None
    workflow: str = ""
    event: str | None = None
    cascade: bool = False  # cancelled because an ancestor failed: no per-task event
    output_json: str | None = None
    output_known: bool = False  # output_json is the task's output (a worker's result)


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat()


async def complete(
    cache: SpecCache, conn: asyncpg.Connection, tenant_id: uuid.UUID, worker_id: uuid.UUID,
    results: list[Result], events: frozenset[str] = DEFAULT_EVENTS,
) -> tuple[list[uuid.UUID], list[uuid.UUID]]:
    """Apply results fenced on lease; return (accepted ids, rejected ids).

    One statement finishes the tasks, records their attempts (released ones too: they are
    history) and queues the change feed's notification; :func:`propagate` does the rest."""
    rows = await conn.fetch(
        queries.get("finish_tasks"), tenant_id, [r.task_run_id for r in results],
        [r.lease_id for r in results], [r.outcome for r in results],
        [r.output_json for r in results], [r.error for r in results],
        [r.retryable for r in results], worker_id, [r.traceback for r in results],
        feed.MAX_IDS,
    )
    by_id = {r.task_run_id: r for r in results}
    once = len(by_id) == len(results)  # else which output was applied is not known here
    changes = [
        Change(
            tenant_id=row["tenant_id"], task_run_id=row["id"], run_id=row["run_id"],
            task_name=row["task_name"], status=row["status"], action=row["action"],
            priority=row["priority"], attempt=row["attempt"], error=row["error"],
            version_id=row["version_id"], workflow=row["workflow_name"],
            output_json=by_id[row["id"]].output_json, output_known=once,
        )
        for row in rows
    ]
    await propagate(cache, conn, changes, events, published=True)
    accepted = [row["id"] for row in rows]
    accepted_set = set(accepted)
    return accepted, [r.task_run_id for r in results if r.task_run_id not in accepted_set]


async def record_attempts(conn: asyncpg.Connection, rows: list[tuple[Any, ...]]) -> None:
    columns = list(zip(*rows, strict=True))
    await conn.execute(queries.get("record_attempts"), *[list(c) for c in columns])


async def enqueue(
    conn: asyncpg.Connection, items: Iterable[asyncpg.Record | Change], *, notify: bool = True,
) -> set[uuid.UUID]:
    """Queue rows carrying tenant_id, id/task_run_id, action, priority; return the tenants.
    ``notify`` False: the statement that queued them already sent ``kiln_queue``."""
    tenants, ids, actions, priorities = [], [], [], []
    for item in items:
        if isinstance(item, Change):
            tenants.append(item.tenant_id)
            ids.append(item.task_run_id)
            actions.append(item.action)
            priorities.append(item.priority)
        else:
            tenants.append(item["tenant_id"])
            ids.append(item["id"])
            actions.append(item["action"])
            priorities.append(item["priority"])
    if ids:
        await conn.execute(queries.get("enqueue"), tenants, ids, actions, priorities)
        for tenant in set(tenants) if notify else ():
            await conn.execute(queries.get("notify_queue"), str(tenant))
    return set(tenants)


async def _fill_versions(conn: asyncpg.Connection, changes: list[Change]) -> None:
    missing = [c for c in changes if c.version_id is None]
    if not missing:
        return
    rows = await conn.fetch(queries.get("run_versions"), [c.tenant_id for c in missing],
                            [c.run_id for c in missing])
    found = {(r["tenant_id"], r["id"]): r for r in rows}
    for change in missing:
        row = found[(change.tenant_id, change.run_id)]
        change.version_id, change.workflow = row["version_id"], row["workflow_name"]


async def propagate(
    cache: SpecCache, conn: asyncpg.Connection, changes: list[Change],
    events: frozenset[str] = DEFAULT_EVENTS, *, published: bool = False,
) -> None:
    """Everything the given task state changes imply, in the caller's transaction
    (``published``: the change feed was already told about their runs)."""
    if not changes:
        return
    if not published:
        await feed.publish(conn, [(c.tenant_id, c.run_id) for c in changes])
    await _fill_versions(conn, changes)
    await enqueue(conn, [c for c in changes if c.status == "queued"])
    releases: tuple[list[uuid.UUID], list[uuid.UUID], list[str]] = ([], [], [])
    cancel_tenants: list[uuid.UUID] = []
    cancel_runs: list[uuid.UUID] = []
    cancel_names: list[str] = []
    cancel_reasons: list[str] = []
    freed: set[uuid.UUID] = set()
    sole: set[uuid.UUID] = set()  # the only task of its run, succeeded: its run's outcome known
    conditioned = _ConditionedChildren()
    for change in changes:
        assert change.version_id is not None
        spec = await spec_for(cache, conn, change.tenant_id, change.version_id)
        task = spec.task(change.task_name)
        if (change.status == "succeeded" and change.output_known and len(spec.tasks) == 1
                and task.is_leaf):
            sole.add(change.task_run_id)
        if spec.flow is not None and spec.flow.active:
            # Flow control: a task of this workflow left `running` (or its run may finish), which
            # can free a concurrency slot — wake the tenant's parked polls to claim again.
            freed.add(change.tenant_id)
        if change.status in ("succeeded", "skipped"):
            for child in task.children:
                if conditioned.add(change, spec.task(child)):
                    continue
                releases[0].append(change.tenant_id)
                releases[1].append(change.run_id)
                releases[2].append(child)
        elif change.status in ("failed", "cancelled"):
            reason = f"cancelled: ancestor {change.task_name!r} {change.status}"
            for name in task.descendants:
                cancel_tenants.append(change.tenant_id)
                cancel_runs.append(change.run_id)
                cancel_names.append(name)
                cancel_reasons.append(reason)
    for tenant in freed:
        await conn.execute(queries.get("notify_queue"), str(tenant))
    if releases[0]:
        ready = await conn.fetch(queries.get("release_children"), *releases)
        await enqueue(conn, [row for row in ready if row["status"] == "queued"], notify=False)
    decided = await conditioned.release(conn)
    finished = [c for c in changes if c.status in TERMINAL]
    if cancel_names:
        finished += [
            Change(tenant_id=r["tenant_id"], task_run_id=r["id"], run_id=r["run_id"],
                   task_name=r["task_name"], status="cancelled", cascade=True)
            for r in await conn.fetch(queries.get("cancel_named_tasks"), cancel_tenants,
                                      cancel_runs, cancel_names, cancel_reasons)
        ]
    at = _now()
    await write_outbox(conn, _task_events(changes, events), events, at=at)
    hooks: list[Change] = []
    if finished:  # after the task events: a finished run's event is written here
        runs = await conn.fetch(
            queries.get("count_down_runs"), [c.tenant_id for c in finished],
            [c.run_id for c in finished], [n for n in RUN_EVENTS if n in events],
            [n for n in RUN_EVENTS if n in SUBSCRIBED_ONLY and n not in events], at,
            [c.task_name if c.task_run_id in sole else None for c in finished],
            [c.output_json if c.task_run_id in sole else None for c in finished],
        )
        hooks = await _on_failure_due(cache, conn, runs)
    if hooks or decided:
        await propagate(cache, conn, [*hooks, *decided_changes(decided)], events)


class _ConditionedChildren:
    """Children with DAG conditions, released apart from the plain fast path: when ready their
    conditions are decided (docs/durable.md, "Conditions in DAGs") instead of being queued."""

    def __init__(self) -> None:
        self.children: list[tuple[uuid.UUID, uuid.UUID, str]] = []
        self.specs: dict[tuple[uuid.UUID, uuid.UUID, str], Any] = {}

    def add(self, parent: Change, child: TaskSpec) -> bool:
        if child.conditions is None:
            return False
        key = (parent.tenant_id, parent.run_id, child.name)
        self.children.append(key)
        self.specs[key] = (child.parents, child.conditions)
        return True

    async def release(self, conn: asyncpg.Connection) -> list[asyncpg.Record]:
        return await dag_waits.release(conn, self.children, self.specs) if self.children else []


def decided_changes(rows: Iterable[asyncpg.Record]) -> list[Change]:
    """Changes for tasks whose DAG conditions were decided (rows of ``dag_decide``)."""
    return [Change(tenant_id=r["tenant_id"], task_run_id=r["id"], run_id=r["run_id"],
                   task_name=r["task_name"], status=r["status"], action=r["action"],
                   priority=r["priority"], attempt=r["attempt"], error=r["error"])
            for r in rows]


async def _on_failure_due(
    cache: SpecCache, conn: asyncpg.Connection, runs: list[asyncpg.Record]
) -> list[Change]:
    """Runs whose only unfinished task is their on-failure task: queue it or cancel it."""
    due = []
    for run in runs:
        if run["pending_tasks"] == 1:
            spec = await spec_for(cache, conn, run["tenant_id"], run["version_id"])
            if spec.on_failure is not None:
                due.append(run)
    if not due:
        return []
    rows = await conn.fetch(queries.get("on_failure_due"), [r["tenant_id"] for r in due],
                            [r["id"] for r in due])
    versions = {r["id"]: (r["version_id"], r["workflow_name"]) for r in due}
    return [
        Change(tenant_id=r["tenant_id"], task_run_id=r["id"], run_id=r["run_id"],
               task_name=r["task_name"], status=r["status"], action=r["action"],
               priority=r["priority"], attempt=r["attempt"], version_id=versions[r["run_id"]][0],
               workflow=versions[r["run_id"]][1], cascade=r["status"] == "cancelled")
        for r in rows
    ]


def _task_events(
    changes: list[Change], events: frozenset[str]
) -> list[tuple[uuid.UUID, str, dict[str, Any]]]:
    out = []
    for change in changes:
        name = change.event or {
            "failed": "task.failed", "pending": "task.retrying", "cancelled": "task.cancelled",
            "succeeded": "task.succeeded",
        }.get(change.status)
        if name and name in events and not change.cascade:
            out.append((change.tenant_id, name, {
                "run_id": str(change.run_id), "workflow": change.workflow,
                "task": change.task_name, "task_run_id": str(change.task_run_id),
                "status": change.status, "attempt": change.attempt, "error": change.error,
            }))
    return out


async def write_outbox(
    conn: asyncpg.Connection, events: list[tuple[uuid.UUID, str, dict[str, Any]]],
    wanted: frozenset[str] = DEFAULT_EVENTS, *, at: str | None = None,
) -> None:
    """Write ``events``; those in :data:`SUBSCRIBED_ONLY` but not ``wanted`` only for tenants
    with a channel subscribed to them. (``count_down_runs`` writes the run events the same way:
    change both together.)"""
    if not events:
        return
    at = at or _now()
    await conn.execute(
        queries.get("write_outbox"), [tenant for tenant, _, _ in events],
        [name for _, name, _ in events],
        [msgspec.json.encode({"event": name, **payload, "at": at}).decode()
         for _, name, payload in events],
        [name in SUBSCRIBED_ONLY and name not in wanted for _, name, _ in events],
    )

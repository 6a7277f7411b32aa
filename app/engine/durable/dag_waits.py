"""DAG conditions in the database (docs/durable.md, "Conditions in DAGs"), in the caller's
transaction: open a task's conditions when it becomes ready, and decide them again when an
event or a timer meets one.

A task waiting on its conditions is ``pending`` (``wait_reason`` "conditions: …") with one
``durable_waits`` row (mode ``dag``, seq 0): no queue row, no lease, no worker slot. Event ingest
and the durable timer sweep wake it exactly as they wake durable waits, under the same
per-(tenant, event key) advisory locks, so an event racing the task's readiness is seen once.

Functions return the task rows whose state was decided (``queued``, ``skipped``, ``cancelled``
or ``failed``); the caller propagates them (:func:`app.engine.queue.results.propagate`).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
import msgspec

from app.engine import feed, queries
from app.engine.durable import conditions as durable_conditions
from app.engine.durable import dag_conditions
from app.engine.durable.dag_conditions import ParentState, TaskConditions

_encode = msgspec.json.Encoder()


@dataclass(frozen=True, slots=True)
class Ready:
    """A task whose parents all finished (or a root of a new run), with its conditions."""

    tenant_id: uuid.UUID
    task_run_id: uuid.UUID
    run_id: uuid.UUID
    task_name: str
    parents: tuple[str, ...]
    conditions: TaskConditions
    expected: str = "pending"  # a root is inserted `queued` (without a queue row) by the trigger


@dataclass(frozen=True, slots=True)
class _Decision:
    tenant_id: uuid.UUID
    task_run_id: uuid.UUID
    expected: str  # the status the task must still have for the decision to apply
    status: str  # queued | skipped | cancelled | failed | pending (still waiting)
    reason: str


@dataclass(slots=True)
class _Opened:
    ready: Ready
    leaves: list[dict[str, Any]]
    matched: list[Any]


async def release(
    conn: asyncpg.Connection, children: Sequence[tuple[uuid.UUID, uuid.UUID, str]],
    specs: Mapping[tuple[uuid.UUID, uuid.UUID, str], tuple[tuple[str, ...], TaskConditions]],
) -> list[asyncpg.Record]:
    """Count down the parents of conditioned children (tenant, run, name; once per finished
    parent) and open the conditions of those now ready. ``specs`` gives each child's parents and
    conditions."""
    rows = await conn.fetch(queries.get("dag_release_children"), [c[0] for c in children],
                            [c[1] for c in children], [c[2] for c in children])
    ready = []
    for row in rows:
        if row["pending_parents"] == 0:
            parents, conditions = specs[(row["tenant_id"], row["run_id"], row["task_name"])]
            ready.append(Ready(row["tenant_id"], row["id"], row["run_id"], row["task_name"],
                               parents, conditions))
    return await open_ready(conn, ready)


async def open_ready(conn: asyncpg.Connection, ready: Sequence[Ready]) -> list[asyncpg.Record]:
    """Open the conditions of ready tasks: fix sleeps from now, evaluate scopes and parent
    conditions, register the wait, look at events already stored, and decide."""
    if not ready:
        return []
    now: dt.datetime = await conn.fetchval(queries.get("durable_now"))
    opened, decisions = await _open(conn, ready, now)
    await _lock_keys(conn, opened)
    for item in opened:
        task = item.ready
        wait = await conn.fetchrow(queries.get("dag_open_wait"), task.tenant_id,
                                   task.task_run_id, task.run_id, item.leaves, item.matched, now)
        event_keys = sorted({leaf["event"] for leaf in item.leaves if "event" in leaf})
        if event_keys:  # events stored after readiness by transactions that committed already
            for event in await conn.fetch(queries.get("durable_events_since"), task.tenant_id,
                                          event_keys, now):
                durable_conditions.apply_event(item.leaves, item.matched, event)
        status, reason = await _save(conn, wait, item.matched, now)
        decisions.append(_Decision(task.tenant_id, task.task_run_id, task.expected, status,
                                   reason))
    return await _apply(conn, decisions)


async def _open(
    conn: asyncpg.Connection, ready: Sequence[Ready], now: dt.datetime
) -> tuple[list[_Opened], list[_Decision]]:
    """Each task's leaves, from its run's input and metadata and its parents' states; a task
    whose conditions cannot be evaluated is decided ``failed`` at once."""
    runs = {(r["tenant_id"], r["id"]): r for r in await conn.fetch(
        queries.get("dag_run_inputs"), [t.tenant_id for t in ready], [t.run_id for t in ready])}
    wanted = [(t.tenant_id, t.run_id, p) for t in ready for p in t.parents]
    parents = {(r["tenant_id"], r["run_id"], r["task_name"]): ParentState(r["status"], r["output"])
               for r in await conn.fetch(queries.get("dag_parent_states"),
                                         [w[0] for w in wanted], [w[1] for w in wanted],
                                         [w[2] for w in wanted])}
    opened: list[_Opened] = []
    failed: list[_Decision] = []
    for task in ready:
        run = runs[(task.tenant_id, task.run_id)]
        states = {p: parents[(task.tenant_id, task.run_id, p)] for p in task.parents
                  if (task.tenant_id, task.run_id, p) in parents}
        try:
            leaves, matched = dag_conditions.open_leaves(
                task.conditions, now, run["input"], run["metadata"] or {}, states)
        except dag_conditions.ConditionError as exc:
            failed.append(_Decision(task.tenant_id, task.task_run_id, task.expected, "failed",
                                    f"conditions: {exc}"))
            continue
        opened.append(_Opened(task, leaves, matched))
    return opened, failed


async def _lock_keys(conn: asyncpg.Connection, opened: Sequence[_Opened]) -> None:
    """Lock every event key once, in one order, before registering (as event ingest does)."""
    keys: dict[uuid.UUID, set[str]] = {}
    for item in opened:
        keys.setdefault(item.ready.tenant_id, set()).update(
            leaf["event"] for leaf in item.leaves if "event" in leaf)
    for tenant_id in sorted(keys, key=str):
        if keys[tenant_id]:
            await conn.fetchval(queries.get("durable_lock_keys"), str(tenant_id),
                                sorted(keys[tenant_id]))


async def wake(
    conn: asyncpg.Connection, waits: Sequence[asyncpg.Record],
    events: Sequence[Mapping[str, Any]] = (), now: dt.datetime | None = None,
) -> list[asyncpg.Record]:
    """Decide the open condition waits (locked rows of mode ``dag``) again, with ``events``
    just stored (stamped with their ``created_at``) applied first — for event ingest and the
    timer sweep."""
    if not waits:
        return []
    if now is None:
        now = await conn.fetchval(queries.get("durable_now"))
    assert now is not None
    decisions = []
    for wait in waits:
        matched = list(wait["matched"])
        hits = [durable_conditions.apply_event(wait["conditions"], matched, e) for e in events
                if wait["opened_at"] < e["created_at"]]
        if events and not any(hits):
            continue
        status, reason = await _save(conn, wait, matched, now)
        decisions.append(_Decision(wait["tenant_id"], wait["task_run_id"], "pending", status,
                                   reason))
    return await _apply(conn, decisions)


async def _save(
    conn: asyncpg.Connection, wait: asyncpg.Record, matched: list[Any], now: dt.datetime
) -> tuple[str, str]:
    """Decide a wait at ``now`` and store the verdict; return (task status, reason)."""
    verdict = dag_conditions.decide(wait["conditions"], matched, now)
    result = None if verdict.status is None else {
        "status": verdict.status, "why": verdict.why, "matched": verdict.matched}
    await conn.execute(
        queries.get("durable_update_wait"), wait["tenant_id"], wait["task_run_id"], 0,
        verdict.matched, verdict.event_keys, verdict.wake_at, result)
    if verdict.status is None:
        return "pending", dag_conditions.describe(wait["conditions"], verdict.matched)
    if verdict.status == "cancelled":
        return "cancelled", "cancelled: cancel_if met"
    return verdict.status, verdict.why


async def _apply(
    conn: asyncpg.Connection, decisions: Sequence[_Decision]
) -> list[asyncpg.Record]:
    """Move the tasks to what was decided; return the rows that were decided for good (a task
    cancelled meanwhile is left alone; one still waiting only wakes the run's watchers)."""
    if not decisions:
        return []
    rows = await conn.fetch(
        queries.get("dag_decide"), [d.tenant_id for d in decisions],
        [d.task_run_id for d in decisions], [d.expected for d in decisions],
        [d.status for d in decisions], [d.reason for d in decisions])
    waiting = [(r["tenant_id"], r["run_id"]) for r in rows if r["status"] == "pending"]
    if waiting:
        await feed.publish(conn, waiting)
    return [r for r in rows if r["status"] != "pending"]

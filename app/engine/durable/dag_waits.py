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

from app.engine import dispatcher, feed, queries
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
    conditions, register the waits, look at events already stored, and decide — in a fixed
    number of statements however many tasks are ready."""
    if not ready:
        return []
    now: dt.datetime = await conn.fetchval(queries.get("durable_now"))
    evaluated, decisions = await _open(conn, ready, now)
    opened = []
    for item in evaluated:
        if not any("event" in leaf for leaf in item.leaves):
            # Decided without looking at events (parent conditions, zero sleeps): no wait row.
            verdict = dag_conditions.decide(item.leaves, item.matched, now)
            if verdict.status is not None:
                decisions.append(_Decision(item.ready.tenant_id, item.ready.task_run_id,
                                           item.ready.expected,
                                           *_outcome(item.leaves, verdict)))
                continue
        opened.append(item)
    await _lock_keys(conn, opened)
    if opened:
        await conn.execute(
            queries.get("dag_open_waits"), [o.ready.tenant_id for o in opened],
            [o.ready.task_run_id for o in opened], [o.ready.run_id for o in opened],
            [_json(o.leaves) for o in opened], [_json(o.matched) for o in opened], now)
        await _events_since(conn, opened, now)
    verdicts = await _save(conn, [(o.ready.tenant_id, o.ready.task_run_id, o.leaves, o.matched)
                                  for o in opened], now)
    decisions += [_Decision(o.ready.tenant_id, o.ready.task_run_id, o.ready.expected, status,
                            reason) for o, (status, reason) in zip(opened, verdicts, strict=True)]
    return await _apply(conn, decisions)


async def _events_since(
    conn: asyncpg.Connection, opened: Sequence[_Opened], now: dt.datetime
) -> None:
    """Apply events stored after readiness by transactions that committed already (the waits
    are registered and their keys locked, so a later event finds the waits instead)."""
    by_tenant: dict[uuid.UUID, list[_Opened]] = {}
    for item in opened:
        if any("event" in leaf for leaf in item.leaves):
            by_tenant.setdefault(item.ready.tenant_id, []).append(item)
    for tenant_id, items in by_tenant.items():
        keys = sorted({leaf["event"] for i in items for leaf in i.leaves if "event" in leaf})
        events = await conn.fetch(queries.get("durable_events_since"), tenant_id, keys, now)
        for event in events:
            for item in items:
                durable_conditions.apply_event(item.leaves, item.matched, event)


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
    touched = []
    for wait in waits:
        matched = list(wait["matched"])
        hits = [durable_conditions.apply_event(wait["conditions"], matched, e) for e in events
                if wait["opened_at"] < e["created_at"]]
        if events and not any(hits):
            continue
        touched.append((wait["tenant_id"], wait["task_run_id"], wait["conditions"], matched))
    verdicts = await _save(conn, touched, now)
    return await _apply(conn, [
        _Decision(tenant_id, task_run_id, "pending", status, reason)
        for (tenant_id, task_run_id, _, _), (status, reason) in zip(touched, verdicts,
                                                                      strict=True)])


async def _save(
    conn: asyncpg.Connection,
    waits: Sequence[tuple[uuid.UUID, uuid.UUID, list[dict[str, Any]], list[Any]]],
    now: dt.datetime,
) -> list[tuple[str, str]]:
    """Decide waits (tenant, task run, leaves, matched) at ``now`` and store the verdicts in
    one statement; return each task's (status, reason)."""
    if not waits:
        return []
    verdicts = [dag_conditions.decide(leaves, matched, now) for _, _, leaves, matched in waits]
    soon = now + dt.timedelta(seconds=dispatcher.SWEEPS_HORIZON)
    if any(v.wake_at is not None and v.wake_at < soon for v in verdicts):
        # A replay or trigger may set this timer while nothing is queued or running, when the
        # sweepers sleep long (app/engine/loops.py, Sweeper): wake them to look again.
        await conn.execute(queries.get("notify_sweeps"))
    await conn.execute(
        queries.get("dag_save_waits"), [w[0] for w in waits], [w[1] for w in waits],
        [_json(v.matched) for v in verdicts], [_json(v.event_keys) for v in verdicts],
        [v.wake_at for v in verdicts],
        [None if v.status is None else _json({"status": v.status, "why": v.why,
                                              "matched": v.matched}) for v in verdicts])
    return [_outcome(leaves, verdict)
            for (_, _, leaves, _), verdict in zip(waits, verdicts, strict=True)]


def _outcome(leaves: list[dict[str, Any]], verdict: dag_conditions.Verdict) -> tuple[str, str]:
    """The task's (status, reason) for a verdict: the reason is its ``waiting_for`` while it
    waits, its error when cancelled."""
    if verdict.status is None:
        return "pending", dag_conditions.describe(leaves, verdict.matched)
    if verdict.status == "cancelled":
        return "cancelled", "cancelled: cancel_if met"
    return verdict.status, verdict.why


def _json(value: Any) -> str:
    return _encode.encode(value).decode()


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

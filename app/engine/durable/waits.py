"""Durable waits: register one (satisfied at once, or the task is suspended), wake waits when a
matching event is stored, and sweep their timers. All in the caller's transaction.

No lost wake-ups: registration and event ingest both take a transaction-scoped advisory lock
per (tenant, event key) before they look at each other's rows. Whichever commits first, the
other one's next statement sees its row: a wait registered first is found by the event's
transaction; an event stored first is found by the wait's check of arrived events.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
import msgspec

from app.core.errors import Conflict
from app.engine import feed, queries
from app.engine.durable import conditions, dag_waits
from app.engine.queue import results
from app.engine.queue.results import enqueue, record_attempts
from app.engine.spec import SpecCache

_encode = msgspec.json.Encoder()


@dataclass(slots=True)
class WaitRequest:
    task_run_id: uuid.UUID
    lease_id: uuid.UUID
    seq: int
    name: str
    conditions: Mapping[str, Any]
    timeout: float | None = None


@dataclass(slots=True)
class WaitOutcome:
    satisfied: bool
    result: Any = None


def _json(value: Any) -> str:
    return _encode.encode(value).decode()


async def lock_keys(conn: asyncpg.Connection, tenant_id: uuid.UUID, keys: Sequence[str]) -> None:
    if keys:
        await conn.fetchval(queries.get("durable_lock_keys"), str(tenant_id), list(keys))


async def register(
    conn: asyncpg.Connection, tenant_id: uuid.UUID, request: WaitRequest
) -> WaitOutcome:
    """Register a durable task's wait at ``seq`` (idempotent per seq); suspend the task when
    the wait is not satisfied yet. Raises Conflict when the lease is not current."""
    task_run_id, seq = request.task_run_id, request.seq
    # Locks in the order event ingest takes them: event keys, then the task row.
    raw_keys = [str(c.get("event")) for c in _items(request.conditions) if "event" in c]
    await lock_keys(conn, tenant_id, sorted(set(raw_keys)))
    task = await conn.fetchrow(queries.get("durable_fence"), tenant_id, task_run_id,
                               request.lease_id)
    if task is None:
        raise Conflict("the task is no longer running under this lease")
    now: dt.datetime = task["now"]
    logged = await conn.fetchrow(queries.get("durable_entry"), tenant_id, task_run_id, seq)
    if logged is not None:
        return WaitOutcome(True, logged["result"])
    wait = await conn.fetchrow(queries.get("durable_wait_at"), tenant_id, task_run_id, seq)
    if wait is None:
        mode, parsed = conditions.parse(request.conditions, now)
        kind = "sleep" if all("sleep_until" in c for c in parsed) else "wait"
        opened_at = await conn.fetchval(queries.get("durable_window"), tenant_id, task_run_id,
                                        seq)
        timeout_at = None if request.timeout is None else now + dt.timedelta(
            seconds=request.timeout)
        wait = await conn.fetchrow(
            queries.get("durable_insert_wait"), tenant_id, task_run_id, seq, task["run_id"],
            kind, request.name, mode, parsed, [None] * len(parsed),
            opened_at or now, timeout_at)
    assert wait is not None
    matched = list(wait["matched"])
    keys = conditions.event_keys(wait["conditions"])
    if keys:  # events that arrived before the wait was registered (since it opened)
        for event in await conn.fetch(queries.get("durable_events_since"), tenant_id, keys,
                                      wait["opened_at"]):
            conditions.apply_event(wait["conditions"], matched, event)
    verdict = await _save(conn, tenant_id, wait, matched, now)
    if verdict.satisfied:
        return WaitOutcome(True, verdict.result)
    reason = conditions.describe(wait["mode"], wait["conditions"], wait["timeout_at"])
    suspended = await conn.fetchrow(queries.get("durable_suspend"), tenant_id, task_run_id,
                                    request.lease_id, reason)
    assert suspended is not None  # fenced above, row locked
    await record_attempts(conn, [(
        tenant_id, task_run_id, suspended["attempt"], suspended["run_id"],
        suspended["worker_id"], "released", suspended["started_at"], reason, None)])
    await feed.publish(conn, [(tenant_id, suspended["run_id"])])
    return WaitOutcome(False)


def _items(raw: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    items = raw.get("any_of", raw.get("all_of", []))
    return [i for i in items if isinstance(i, Mapping)] if isinstance(items, list) else []


async def _save(
    conn: asyncpg.Connection, tenant_id: uuid.UUID, wait: asyncpg.Record, matched: list[Any],
    now: dt.datetime,
) -> conditions.Verdict:
    """Evaluate a wait at ``now`` and store the verdict; a satisfied wait also gets its entry
    in the durable log (what the resumed attempt replays)."""
    verdict = conditions.evaluate(wait["mode"], wait["conditions"], matched, now,
                                  wait["timeout_at"])
    await conn.execute(
        queries.get("durable_update_wait"), wait["tenant_id"], wait["task_run_id"], wait["seq"],
        verdict.matched, verdict.event_keys, verdict.wake_at, verdict.result)
    if verdict.satisfied:
        await conn.execute(queries.get("durable_record"), [tenant_id], [wait["task_run_id"]],
                           [wait["seq"]], [wait["kind"]], [wait["name"]],
                           [_json(verdict.result)])
    return verdict


async def resume(conn: asyncpg.Connection, tasks: list[tuple[uuid.UUID, uuid.UUID]]) -> int:
    """Queue suspended tasks (tenant, task run id) whose wait is satisfied."""
    if not tasks:
        return 0
    rows = await conn.fetch(queries.get("durable_resume"), [t for t, _ in tasks],
                            [i for _, i in tasks])
    await enqueue(conn, rows)
    await feed.publish(conn, [(r["tenant_id"], r["run_id"]) for r in rows])
    return len(rows)


async def on_event(
    specs: SpecCache, conn: asyncpg.Connection, tenant_id: uuid.UUID,
    events: Sequence[Mapping[str, Any]],
) -> int:
    """Wake the open waits that stored events (id, key, payload, metadata) meet — called by
    event ingest in the transaction that inserts them; return the tasks queued again or
    decided (DAG conditions)."""
    if not events:
        return 0
    keys = sorted({str(e["key"]) for e in events})
    await lock_keys(conn, tenant_id, keys)
    waits = await conn.fetch(queries.get("durable_open_waits_for_keys"), tenant_id, keys)
    if not waits:
        return 0
    now: dt.datetime = await conn.fetchval(queries.get("durable_now"))
    stamped = [{**e, "created_at": now} for e in events]
    decided = await _decide_dag(specs, conn, [w for w in waits if w["mode"] == "dag"],
                                stamped, now)
    woken = []
    for wait in (w for w in waits if w["mode"] != "dag"):
        if wait["opened_at"] >= now:
            continue  # opened after this event (cannot happen in one transaction; be safe)
        matched = list(wait["matched"])
        hits = [conditions.apply_event(wait["conditions"], matched, e) for e in stamped]
        if not any(hits):  # every event is applied: all_of may need several
            continue
        verdict = await _save(conn, tenant_id, wait, matched, now)
        if verdict.satisfied:
            woken.append((tenant_id, wait["task_run_id"]))
    return await resume(conn, woken) + decided


async def _decide_dag(
    specs: SpecCache, conn: asyncpg.Connection, waits: list[asyncpg.Record],
    events: Sequence[Mapping[str, Any]], now: dt.datetime,
) -> int:
    """Decide DAG condition waits again (docs/durable.md, "Conditions in DAGs") and propagate
    what they decided: a queued task is enqueued, a skipped one releases its children."""
    decided = await dag_waits.wake(conn, waits, events, now)
    await results.propagate(specs, conn, results.decided_changes(decided))
    return len(decided)


async def sweep(specs: SpecCache, conn: asyncpg.Connection, batch: int) -> int:
    """Waits whose sleep or timeout is due (across tenants, as ``kiln_engine``)."""
    due = await conn.fetch(queries.get("durable_due_waits"), batch)
    if not due:
        return 0
    now: dt.datetime = await conn.fetchval(queries.get("durable_now"))
    await _decide_dag(specs, conn, [w for w in due if w["mode"] == "dag"], (), now)
    woken = []
    for wait in (w for w in due if w["mode"] != "dag"):
        verdict = await _save(conn, wait["tenant_id"], wait, list(wait["matched"]), now)
        if verdict.satisfied:
            woken.append((wait["tenant_id"], wait["task_run_id"]))
    await resume(conn, woken)
    return len(due)

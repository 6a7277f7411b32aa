"""Cross-tenant sweeps run by the engine loops as ``kiln_engine``: expired leases, execution
deadlines, due retries, silent workers. Each takes a batch with ``FOR UPDATE SKIP LOCKED``, so
every server replica may run them at once."""

from __future__ import annotations

import asyncpg

from app.engine import feed, queries
from app.engine.config import EngineConfig
from app.engine.queue.results import DEFAULT_EVENTS, Change, enqueue, propagate, record_attempts
from app.engine.queue.results import write_outbox as write_events
from app.engine.spec import SpecCache


def _changes(rows: list[asyncpg.Record], event: str | None) -> list[Change]:
    return [
        Change(tenant_id=r["tenant_id"], task_run_id=r["id"], run_id=r["run_id"],
               task_name=r["task_name"], status=r["status"], action=r["action"],
               priority=r["priority"], attempt=r["attempt"], error=r["error"],
               event=event if r["status"] != "queued" else None)
        for r in rows
    ]


async def _history(conn: asyncpg.Connection, rows: list[asyncpg.Record], status: str) -> None:
    if rows:
        await record_attempts(conn, [
            (r["tenant_id"], r["id"], r["attempt"], r["run_id"], r["worker_id"], status,
             r["started_at"], r["error"] or status, None) for r in rows
        ])


async def expire_leases(
    cache: SpecCache, conn: asyncpg.Connection, config: EngineConfig,
    events: frozenset[str] = DEFAULT_EVENTS,
) -> int:
    rows = await conn.fetch(queries.get("expire_leases"), config.sweep_batch, config.max_rescues)
    await _history(conn, rows, "lost")
    await propagate(cache, conn, _changes(rows, None), events)
    return len(rows)


async def expire_deadlines(
    cache: SpecCache, conn: asyncpg.Connection, config: EngineConfig,
    events: frozenset[str] = DEFAULT_EVENTS,
) -> int:
    rows = await conn.fetch(queries.get("expire_deadlines"), config.sweep_batch)
    await _history(conn, rows, "timed_out")
    await propagate(cache, conn, _changes(rows, "task.timed_out"), events)
    return len(rows)


async def expire_schedules(
    cache: SpecCache, conn: asyncpg.Connection, config: EngineConfig,
    events: frozenset[str] = DEFAULT_EVENTS,
) -> int:
    rows = await conn.fetch(queries.get("expire_schedules"), config.sweep_batch)
    if rows:  # their queue rows would only make a later claim come back empty
        await conn.execute(queries.get("dequeue_tasks"), [r["tenant_id"] for r in rows],
                           [r["action"] for r in rows], [r["id"] for r in rows])
    await propagate(cache, conn, _changes(rows, "task.timed_out"), events)
    return len(rows)


async def queue_due_retries(conn: asyncpg.Connection, config: EngineConfig) -> int:
    rows = await conn.fetch(queries.get("due_retries"), config.sweep_batch)
    await enqueue(conn, rows)
    await feed.publish(conn, [(r["tenant_id"], r["run_id"]) for r in rows])
    return len(rows)


async def lose_silent_workers(
    conn: asyncpg.Connection, config: EngineConfig, events: frozenset[str] = DEFAULT_EVENTS
) -> int:
    rows = await conn.fetch(queries.get("lose_workers"), config.worker_lost_after)
    await feed.publish_workers(conn, [(r["tenant_id"], r["id"]) for r in rows])
    if "worker.lost" in events:
        await write_events(conn, [
            (r["tenant_id"], "worker.lost", {"worker_id": str(r["id"]), "worker_name": r["name"]})
            for r in rows
        ])
    return len(rows)

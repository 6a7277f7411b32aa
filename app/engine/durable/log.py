"""The durable log: completed steps recorded under the task's lease, read back on resume."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import asyncpg
import msgspec

from app.core.errors import Conflict
from app.engine import queries

_encode = msgspec.json.Encoder()


@dataclass(slots=True)
class Entry:
    seq: int
    kind: str
    name: str
    result: Any


async def record(
    conn: asyncpg.Connection, tenant_id: uuid.UUID, task_run_id: uuid.UUID,
    lease_id: uuid.UUID, entry: Entry,
) -> Entry:
    """Append a step (idempotent per seq: the first write wins); return what the log holds at
    that seq. Raises Conflict when the lease is not current."""
    if await conn.fetchrow(queries.get("durable_fence"), tenant_id, task_run_id,
                           lease_id) is None:
        raise Conflict("the task is no longer running under this lease")
    await conn.execute(queries.get("durable_record"), [tenant_id], [task_run_id], [entry.seq],
                       [entry.kind], [entry.name], [_encode.encode(entry.result).decode()])
    row = await conn.fetchrow(queries.get("durable_entry"), tenant_id, task_run_id, entry.seq)
    assert row is not None
    return Entry(row["seq"], row["kind"], row["name"], row["result"])


async def logs_for(
    conn: asyncpg.Connection, tenant_id: uuid.UUID, task_run_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[Entry]]:
    """The durable logs of some task runs (empty for tasks that never made a durable call)."""
    found: dict[uuid.UUID, list[Entry]] = {}
    if task_run_ids:
        for row in await conn.fetch(queries.get("durable_logs_for"), tenant_id, task_run_ids):
            found.setdefault(row["task_run_id"], []).append(
                Entry(row["seq"], row["kind"], row["name"], row["result"]))
    return found

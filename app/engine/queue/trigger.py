"""Creating runs: many per statement, roots queued in the same transaction."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import msgspec

from app.core.errors import Conflict, Invalid, NotFound
from app.core.ids import uuid7
from app.engine import feed, queries
from app.engine.spec import SpecCache, WorkflowSpec

_encode = msgspec.json.Encoder(order="sorted")


@dataclass(slots=True)
class RunRequest:
    input: Any
    metadata: dict[str, Any] = field(default_factory=dict)
    priority: int = 2
    idempotency_key: str | None = None
    parent_run_id: uuid.UUID | None = None
    parent_task_run_id: uuid.UUID | None = None
    child_key: str | None = None

    def encoded(self) -> tuple[str, str]:
        try:
            return _encode.encode(self.input).decode(), _encode.encode(self.metadata).decode()
        except (TypeError, msgspec.EncodeError) as exc:
            raise Invalid(f"input or metadata is not JSON-serialisable: {exc}") from exc


@dataclass(frozen=True, slots=True)
class Triggered:
    run_id: uuid.UUID
    created: bool  # False: an idempotent repeat (or a re-spawned child) returned the earlier run


def request_hash(input_json: str, metadata_json: str) -> bytes:
    return hashlib.sha256(f"{input_json}\x00{metadata_json}".encode()).digest()


async def latest_spec(
    cache: SpecCache, conn: asyncpg.Connection, tenant_id: uuid.UUID, workflow: str
) -> tuple[uuid.UUID, WorkflowSpec]:
    row = await conn.fetchrow(queries.get("latest_version"), tenant_id, workflow)
    if row is None:
        raise NotFound(f"workflow {workflow!r} is not registered (start a worker that defines it)")
    spec = cache.get(row["version_id"]) or cache.add(row["version_id"], row["definition"])
    return row["workflow_id"], spec


async def trigger(
    cache: SpecCache, conn: asyncpg.Connection, tenant_id: uuid.UUID, workflow: str,
    requests: list[RunRequest],
) -> list[Triggered]:
    """Create one run per request (in one transaction the caller owns); return them in order."""
    workflow_id, spec = await latest_spec(cache, conn, tenant_id, workflow)
    ids = [uuid7() for _ in requests]
    encoded = [r.encoded() for r in requests]
    hashes = [request_hash(i, m) if r.idempotency_key else None
              for r, (i, m) in zip(requests, encoded, strict=True)]
    inserted = {row["id"] for row in await conn.fetch(
        queries.get("insert_runs"), tenant_id, workflow_id, spec.version_id, spec.name,
        len(spec.tasks), ids, [i for i, _ in encoded], [m for _, m in encoded],
        [r.priority for r in requests], [r.idempotency_key for r in requests], hashes,
        [r.parent_run_id for r in requests], [r.parent_task_run_id for r in requests],
        [r.child_key for r in requests],
    )}
    results = [Triggered(run_id, True) for run_id in ids]
    if len(inserted) < len(ids):
        results = await _resolve_conflicts(conn, tenant_id, requests, ids, hashes, inserted)
    fresh = [r.run_id for r in results if r.created]
    if fresh:
        priorities = {run_id: req.priority for run_id, req in zip(ids, requests, strict=True)}
        await _insert_tasks(conn, tenant_id, spec, fresh, priorities)
        await conn.execute(queries.get("notify_queue"), str(tenant_id))
        await feed.publish(conn, [(tenant_id, run_id) for run_id in fresh])
    return results


async def _resolve_conflicts(
    conn: asyncpg.Connection, tenant_id: uuid.UUID, requests: list[RunRequest],
    ids: list[uuid.UUID], hashes: list[bytes | None], inserted: set[uuid.UUID],
) -> list[Triggered]:
    keys = [r.idempotency_key for r, i in zip(requests, ids, strict=True)
            if i not in inserted and r.idempotency_key]
    by_key = {row["idempotency_key"]: row for row in await conn.fetch(
        queries.get("existing_runs_by_key"), tenant_id, keys)} if keys else {}
    child_keys = [r.child_key for r, i in zip(requests, ids, strict=True)
                  if i not in inserted and r.child_key]
    by_child: dict[str, uuid.UUID] = {}
    if child_keys:
        parent = requests[0].parent_task_run_id
        by_child = {row["child_key"]: row["id"] for row in await conn.fetch(
            queries.get("existing_child_runs"), tenant_id, parent, child_keys)}
    results = []
    for request, run_id, digest in zip(requests, ids, hashes, strict=True):
        if run_id in inserted:
            results.append(Triggered(run_id, True))
        elif request.idempotency_key in by_key:
            existing = by_key[request.idempotency_key]
            if existing["request_hash"] != digest:
                raise Invalid(f"Idempotency-Key {request.idempotency_key!r} was already used "
                              "with a different request body")
            results.append(Triggered(existing["id"], False))
        elif request.child_key in by_child:
            results.append(Triggered(by_child[request.child_key], False))
        else:
            # Two requests of this very batch shared a key: the first one won.
            raise Invalid("the same idempotency or child key appears twice in one request")
    return results


async def _insert_tasks(
    conn: asyncpg.Connection, tenant_id: uuid.UUID, spec: WorkflowSpec,
    run_ids: list[uuid.UUID], priorities: dict[uuid.UUID, int],
) -> None:
    columns: list[list[Any]] = [[] for _ in range(13)]
    roots: tuple[list[uuid.UUID], list[str], list[int]] = ([], [], [])
    for run_id in run_ids:
        priority = priorities[run_id]
        for task in spec.tasks.values():
            task_id = uuid7()
            for column, value in zip(columns, (
                task_id, run_id, task.name, task.action, task.max_attempts, len(task.parents),
                priority, task.execution_timeout, task.backoff_factor, task.backoff_max_seconds,
                task.is_leaf, task.kind, task.schedule_timeout,
            ), strict=True):
                column.append(value)
            if not task.parents and task.kind == "task":
                roots[0].append(task_id)
                roots[1].append(task.action)
                roots[2].append(priority)
    await conn.execute(queries.get("insert_tasks"), tenant_id, *columns)
    await conn.execute(
        queries.get("enqueue"), [tenant_id] * len(roots[0]), roots[0], roots[1], roots[2]
    )


@dataclass(slots=True)
class ChildRequest:
    input: Any
    metadata: dict[str, Any] = field(default_factory=dict)
    key: str | None = None
    priority: int | None = None


async def spawn(
    cache: SpecCache, conn: asyncpg.Connection, tenant_id: uuid.UUID, task_run_id: uuid.UUID,
    lease_id: uuid.UUID, workflow: str, children: list[ChildRequest],
) -> list[Triggered]:
    """Child runs of a running task. A child with a ``key`` is created once per parent task:
    a retried parent spawning the same key gets the existing child back. Children inherit the
    parent run's metadata (their own keys win) and priority."""
    parent = await conn.fetchrow(queries.get("spawning_task"), tenant_id, task_run_id, lease_id)
    if parent is None:
        raise Conflict("the spawning task is not running under this lease")
    return await trigger(cache, conn, tenant_id, workflow, [
        RunRequest(
            input=child.input, metadata={**parent["metadata"], **child.metadata},
            priority=child.priority or parent["priority"], parent_run_id=parent["run_id"],
            parent_task_run_id=task_run_id, child_key=child.key,
        )
        for child in children
    ])

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
from app.engine.durable import dag_waits
from app.engine.flow import admission
from app.engine.queue import results
from app.engine.spec import SpecCache, WorkflowSpec

_encode = msgspec.json.Encoder(order="sorted")


@dataclass(slots=True)
class RunRequest:
    input: Any
    metadata: dict[str, Any] = field(default_factory=dict)
    priority: int | None = None
    """1 low, 2 normal, 3 high; None: the workflow's ``default_priority`` (else 2)."""
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
    default_priority = spec.flow.default_priority if spec.flow is not None else 2
    priority = {run_id: r.priority or default_priority for run_id, r in zip(ids, requests,
                                                                            strict=True)}
    # Flow keys are evaluated before anything is written: a bad key is a 422 for this trigger.
    evaluated = admission.evaluate_runs(spec, [(r.input, r.metadata) for r in requests])
    flows = dict(zip(ids, evaluated, strict=True)) if evaluated is not None else {}
    hashes = [request_hash(i, m) if r.idempotency_key else None
              for r, (i, m) in zip(requests, encoded, strict=True)]
    inserted = {row["id"] for row in await conn.fetch(
        queries.get("insert_runs"), tenant_id, workflow_id, spec.version_id, spec.name,
        len(spec.tasks), ids, [i for i, _ in encoded], [m for _, m in encoded],
        [priority[i] for i in ids], [r.idempotency_key for r in requests], hashes,
        [r.parent_run_id for r in requests], [r.parent_task_run_id for r in requests],
        [r.child_key for r in requests],
    )}
    results = [Triggered(run_id, True) for run_id in ids]
    if len(inserted) < len(ids):
        results = await _resolve_conflicts(conn, tenant_id, requests, ids, hashes, inserted)
    fresh = [r.run_id for r in results if r.created]
    if fresh:
        await _insert_tasks(cache, conn, tenant_id, spec, fresh, priority, flows)
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
    cache: SpecCache, conn: asyncpg.Connection, tenant_id: uuid.UUID, spec: WorkflowSpec,
    run_ids: list[uuid.UUID], priorities: dict[uuid.UUID, int],
    flows: dict[uuid.UUID, dict[str, dict[str, Any]]],
) -> None:
    columns: list[list[Any]] = [[] for _ in range(14)]
    roots: tuple[list[uuid.UUID], list[str], list[int]] = ([], [], [])
    flow_roots: list[tuple[uuid.UUID, uuid.UUID, str, int, dict[str, Any]]] = []
    conditioned: list[dag_waits.Ready] = []
    for run_id in run_ids:
        priority = priorities[run_id]
        run_flow = flows.get(run_id, {})
        for task in spec.tasks.values():
            task_id = uuid7()
            flow = run_flow.get(task.name)
            for column, value in zip(columns, (
                task_id, run_id, task.name, task.action, task.max_attempts, len(task.parents),
                priority, task.execution_timeout, task.backoff_factor, task.backoff_max_seconds,
                task.is_leaf, task.kind, task.schedule_timeout, admission.encode(flow),
            ), strict=True):
                column.append(value)
            if not task.parents and task.kind == "task":
                if task.conditions is not None:
                    # Inserted `queued` but not queued: its conditions decide below.
                    conditioned.append(dag_waits.Ready(tenant_id, task_id, run_id, task.name, (),
                                                       task.conditions, expected="queued"))
                elif flow is not None:
                    flow_roots.append((task_id, run_id, task.action, priority, flow))
                else:
                    roots[0].append(task_id)
                    roots[1].append(task.action)
                    roots[2].append(priority)
    await conn.execute(queries.get("insert_tasks"), tenant_id, *columns)
    if roots[0]:
        await conn.execute(queries.get("enqueue_roots"), tenant_id, *roots)
    if flow_roots or (conditioned and flows):
        # CANCEL_* concurrency strategies decide before the roots are queued: a new run over
        # its limit may be cancelled at once (CANCEL_NEWEST) or cancel older ones.
        first = {run_id: next(iter(f.values())) for run_id, f in flows.items() if f}
        cancelled = await admission.settle(
            cache, conn, tenant_id, [(run_id, first[run_id]) for run_id in run_ids
                                     if run_id in first])
        await admission.enqueue_roots(conn, tenant_id, [
            r for r in flow_roots if r[1] not in cancelled])
    if conditioned:
        decided = await dag_waits.open_ready(conn, conditioned)
        await results.propagate(cache, conn, results.decided_changes(decided))


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

"""Trigger-time flow work: evaluate a run's keys, queue its flow-controlled roots, apply the
``CANCEL_*`` concurrency strategies (cancelling through :func:`app.engine.queue.control.cancel`)."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import msgspec

from app.engine import queries
from app.engine.flow import concurrency, keys
from app.engine.flow.spec import FlowSpec
from app.engine.queue import control
from app.engine.spec import SpecCache, WorkflowSpec

_encode = msgspec.json.Encoder(order="sorted")


def evaluate_runs(
    spec: WorkflowSpec, inputs: list[tuple[Any, dict[str, Any]]]
) -> list[dict[str, dict[str, Any]]] | None:
    """Per request, the ``flow`` of each flow-controlled task; None when the workflow has no
    flow rules. Raises ``Invalid`` (422) for an expression that fails or gives a non-string key."""
    flow: FlowSpec | None = spec.flow
    if flow is None or not flow.active:
        return None
    names = list(spec.tasks)
    return [keys.evaluate(flow, names, input, metadata) for input, metadata in inputs]


def encode(flow: dict[str, Any] | None) -> str | None:
    return None if flow is None else _encode.encode(flow).decode()


async def enqueue_roots(
    conn: asyncpg.Connection, tenant_id: uuid.UUID,
    roots: list[tuple[uuid.UUID, uuid.UUID, str, int, dict[str, Any]]],
) -> None:
    """Queue flow-controlled roots ``(task id, run id, action, priority, flow)``."""
    if roots:
        await conn.execute(
            queries.get("enqueue_flow_roots"), tenant_id, [r[0] for r in roots],
            [r[1] for r in roots], [r[2] for r in roots], [r[3] for r in roots],
            [keys.first_group(r[4]) for r in roots], [encode(r[4]) for r in roots],
        )


async def settle(
    cache: SpecCache, conn: asyncpg.Connection, tenant_id: uuid.UUID,
    runs: list[tuple[uuid.UUID, dict[str, Any]]],
) -> set[uuid.UUID]:
    """Apply the cancel strategies to new runs (``(run id, a task's flow)``); cancel the losers
    (new or older runs) with a clear reason. Returns the new runs that were cancelled (their
    roots must not be queued)."""
    cancel = await concurrency.settle_new_runs(conn, tenant_id, runs)
    if not cancel:
        return set()
    ids = list(cancel)
    await control.cancel(cache, conn, tenant_id, ids)
    await conn.execute(queries.get("flow_dequeue_runs"), tenant_id, ids)
    await conn.execute(queries.get("cancel_reason"), tenant_id, ids, [cancel[i] for i in ids])
    new = {run_id for run_id, _ in runs}
    return {run_id for run_id in ids if run_id in new}

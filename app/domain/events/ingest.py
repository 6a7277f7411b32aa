"""Storing events and starting their workflows, in the caller's transaction.

The hot path of events: one subscriptions lookup, one batched trigger per matching workflow
(``app.engine.queue.trigger``) and one batched insert of the events with their run ids — all on
the caller's connection, so the events and their runs commit (or roll back) together.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import msgspec

from app.core.errors import Invalid, PayloadTooLarge
from app.core.ids import uuid7
from app.domain.events import matching
from app.domain.events.schemas import MAX_PAYLOAD_BYTES
from app.engine import queries
from app.engine.durable import dag_conditions, waits
from app.engine.queue import trigger
from app.engine.runtime import Engine
from app.engine.spec import SpecCache

_encode = msgspec.json.Encoder()


@functools.cache
def sql(name: str) -> str:
    return queries.parse(Path(__file__).with_name("sql").joinpath("events.sql").read_text())[name]


@dataclass(slots=True)
class NewEvent:
    key: str
    payload: Any
    metadata: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Ingested:
    id: uuid.UUID
    key: str
    run_ids: list[uuid.UUID]


def _encoded(events: list[NewEvent], max_payload: int) -> tuple[list[str], list[str]]:
    payloads, metadata = [], []
    for index, event in enumerate(events):
        try:
            payload = _encode.encode(event.payload)
            meta = _encode.encode(dict(event.metadata))
        except (TypeError, msgspec.EncodeError) as exc:
            raise Invalid(f"event {index}: payload or metadata is not JSON: {exc}") from exc
        if len(payload) > max_payload:
            where = f"event {index}'s payload" if len(events) > 1 else "the event payload"
            raise PayloadTooLarge(f"{where} is {len(payload)} bytes; the limit is "
                                  f"{max_payload} bytes")
        payloads.append(payload.decode())
        metadata.append(meta.decode())
    return payloads, metadata


async def ingest(
    specs: SpecCache, conn: asyncpg.Connection, tenant_id: uuid.UUID, events: list[NewEvent],
    *, source: str = "api", webhook_id: uuid.UUID | None = None,
    max_payload: int = MAX_PAYLOAD_BYTES,
) -> list[Ingested]:
    """Store ``events`` and start the workflows they match; return them in order."""
    for event in events:
        matching.check_key(event.key)
    payloads, metadata = _encoded(events, max_payload)
    rows = await conn.fetch(sql("subscriptions_for_keys"), tenant_id,
                            sorted({e.key for e in events}))
    subscriptions = [matching.Subscription(r["workflow"], r["pattern"], r["filter"])
                     for r in rows]
    ids = [uuid7() for _ in events]
    run_ids: list[list[uuid.UUID]] = [[] for _ in events]
    by_workflow: dict[str, list[int]] = {}
    if subscriptions:
        for index, event in enumerate(events):
            for workflow in matching.workflows_for(
                subscriptions, event.key, event.payload, event.metadata
            ):
                by_workflow.setdefault(workflow, []).append(index)
    await _lock_event_keys(specs, conn, tenant_id, events, by_workflow)
    for workflow in sorted(by_workflow):
        indexes = by_workflow[workflow]
        requests = [trigger.RunRequest(
            input=events[i].payload,
            metadata={**events[i].metadata, "event_id": str(ids[i]), "event_key": events[i].key},
        ) for i in indexes]
        started = await trigger.trigger(specs, conn, tenant_id, workflow, requests)
        for i, run in zip(indexes, started, strict=True):
            run_ids[i].append(run.run_id)
    await conn.execute(
        sql("insert_events"), tenant_id, source, webhook_id, ids, [e.key for e in events],
        payloads, metadata, ["{" + ",".join(map(str, runs)) + "}" for runs in run_ids],
    )
    # Durable tasks waiting for these events wake in this same transaction (docs/durable.md).
    await waits.on_event(specs, conn, tenant_id, [
        {"id": i, "key": e.key, "payload": e.payload, "metadata": e.metadata}
        for i, e in zip(ids, events, strict=True)])
    return [Ingested(i, e.key, runs) for i, e, runs in zip(ids, events, run_ids, strict=True)]


async def _lock_event_keys(
    specs: SpecCache, conn: asyncpg.Connection, tenant_id: uuid.UUID, events: list[NewEvent],
    started: Mapping[str, object],
) -> None:
    """Take every event-key lock this ingest will need in one sorted step: the keys of the
    events (waking waits) and those the started runs' root tasks will wait on (registering).
    Taken piecemeal, two pushes whose runs wait on each other's key would deadlock."""
    keys = {e.key for e in events}
    for workflow in started:
        _, spec = await trigger.latest_spec(specs, conn, tenant_id, workflow)
        for task in spec.tasks.values():
            if not task.parents and task.conditions is not None:
                keys |= dag_conditions.event_keys(task.conditions)
    await waits.lock_keys(conn, tenant_id, sorted(keys))


def count_runs(engine: Engine, runs: int) -> None:
    """Count runs started outside :meth:`Engine.trigger` (events, webhooks, crons, schedules)
    in the server's metrics; call it after the transaction committed."""
    if engine.metrics is not None and runs:
        engine.metrics.runs_triggered.inc(runs)

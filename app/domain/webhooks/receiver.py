"""The public receiver: ``POST /hooks/{id}`` → verify the raw body → store an event.

1. The webhook id is resolved to its tenant (a SECURITY DEFINER lookup); from then on
   everything runs as that tenant, under RLS.
2. The verifier plugin checks the exact bytes received and the headers, with the current
   secret (and the previous one during a rotation's grace period). A refusal answers 401,
   stores nothing, and only increments the webhook's failure counter.
3. The sender's delivery id (from the verifier) is checked against the deliveries log: a
   replay is refused like a bad signature.
4. Only now is the body parsed; the event (key from the config or ``key_expression``), its
   runs and the delivery row commit in one transaction — a concurrent replay of the same
   delivery id loses on the unique index and rolls back whole.
"""

from __future__ import annotations

import functools
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import structlog

from app.core.crypto import DecryptionError, SecretBox
from app.core.errors import Invalid, NotFound, Unauthorized
from app.core.ids import uuid7
from app.db.tenancy import TenantContext
from app.domain.events import ingest, matching
from app.domain.webhooks import verifiers
from app.domain.webhooks.services import seal_context
from app.engine import queries
from app.engine.runtime import Engine
from app.hooks.manager import KilnPluginManager

log = structlog.get_logger("kiln.webhooks")

REFUSED = "webhook verification failed"
"""The one message every refusal gets: the reason is logged and counted, never sent back."""


@functools.cache
def sql(name: str) -> str:
    text = Path(__file__).with_name("sql").joinpath("receiver.sql").read_text()
    return queries.parse(text)[name]


class Replay(Exception):
    """The delivery id was accepted before."""


@dataclass(frozen=True, slots=True)
class Request:
    webhook_id: uuid.UUID
    headers: Mapping[str, str]
    """Lower-cased names; repeated headers joined with ``", "``."""
    body: bytes


def parse_body(body: bytes) -> Any:
    """The event payload: the JSON body, ``{}`` when empty, else ``{"raw": <text>}``."""
    if not body.strip():
        return {}
    try:
        return json.loads(body)
    except ValueError:
        return {"raw": body.decode("utf-8", "replace")}


def event_key(
    row: asyncpg.Record, payload: Any, headers: Mapping[str, str]
) -> tuple[str, str | None]:
    """``(key, note)``: ``key_expression``'s string when it gives a valid key, else the
    configured ``event_key`` with a note saying why."""
    source = row["key_expression"]
    if source is None:
        return row["event_key"], None
    try:
        value = matching.compile_expression(source, "key_expression").execute(
            {"body": payload, "headers": dict(headers)})
        if not isinstance(value, str):
            raise Invalid(f"gave {type(value).__name__}, not a string")
        return matching.check_key(value), None
    except Exception as exc:  # a user's expression may fail in many ways
        reason = getattr(exc, "message", None) or str(exc)
        return row["event_key"], f"key_expression failed ({reason[:200]}); used event_key"


async def _refuse(
    engine: Engine, tenant_id: uuid.UUID, webhook_id: uuid.UUID, reason: str
) -> Unauthorized:
    log.info("webhook refused", action="webhook.refused", webhook_id=str(webhook_id),
             reason=reason)
    async with engine.db.raw(TenantContext(tenant_id)) as conn:
        await conn.execute(sql("count_failure"), tenant_id, webhook_id, reason[:500])
    return Unauthorized(REFUSED)


async def receive(
    engine: Engine, plugins: KilnPluginManager, box: SecretBox, request: Request,
    max_payload: int,
) -> uuid.UUID:
    """Verify and store one delivery; return the event id (or raise 401/404)."""
    db = engine.db
    assert db.pool is not None
    tenant_id = await db.pool.fetchval(sql("resolve_webhook"), request.webhook_id)
    if tenant_id is None:
        raise NotFound(f"no webhook {request.webhook_id}")
    context = TenantContext(tenant_id)
    async with db.raw(context) as conn:
        row = await conn.fetchrow(sql("webhook_for_receipt"), tenant_id, request.webhook_id)
    if row is None or not row["enabled"]:
        raise NotFound(f"no webhook {request.webhook_id} (or it is disabled)")
    try:
        verifier = (await verifiers.registry(plugins))[row["verifier"]]
    except KeyError:
        raise await _refuse(engine, tenant_id, row["id"],
                            f"verifier {row['verifier']!r} is not installed") from None
    sealing = seal_context(tenant_id, row["id"])
    try:
        secrets = [box.decrypt(row["secret"], sealing) if row["secret"] else None]
        if row["previous_secret"] and row["previous_valid"]:
            secrets.append(box.decrypt(row["previous_secret"], sealing))
    except DecryptionError as exc:
        raise await _refuse(engine, tenant_id, row["id"], f"secret unusable: {exc}") from None
    config = row["config"]
    result = verifiers.verify(verifier, headers=request.headers, body=request.body,
                              secrets=secrets, config=config, now=float(row["now"]))
    if not result.ok:
        raise await _refuse(engine, tenant_id, row["id"], result.reason or "refused")
    given = verifiers.delivery_id(verifier, headers=request.headers, body=request.body,
                                  config=config)
    try:
        return await _store(engine, context, row, request, given, max_payload)
    except Replay:
        raise await _refuse(engine, tenant_id, row["id"],
                            f"replayed delivery id {given!r}") from None


async def _store(
    engine: Engine, context: TenantContext, row: asyncpg.Record, request: Request,
    given: str | None, max_payload: int,
) -> uuid.UUID:
    tenant_id, webhook_id = context.tenant_id, row["id"]
    assert tenant_id is not None
    delivery_id = given or f"kiln:{uuid7()}"
    payload = parse_body(request.body)
    key, note = event_key(row, payload, request.headers)
    metadata = {"webhook_id": str(webhook_id), "webhook": row["name"],
                "delivery_id": delivery_id}
    async with engine.db.raw(context) as conn:
        if given and await conn.fetchval(sql("delivery_seen"), tenant_id, webhook_id, given):
            raise Replay
        (event,) = await ingest.ingest(
            engine.specs, conn, tenant_id, [ingest.NewEvent(key, payload, metadata)],
            source="webhook", webhook_id=webhook_id, max_payload=max_payload)
        logged = await conn.fetchval(
            sql("insert_delivery"), tenant_id, uuid7(), webhook_id, delivery_id, bool(given),
            event.id, key, len(event.run_ids), len(request.body), note)
        if logged is None:
            raise Replay  # rolls back the event and its runs
    ingest.count_runs(engine, len(event.run_ids))
    log.info("webhook accepted", action="webhook.accepted", webhook_id=str(webhook_id),
             event_id=str(event.id), runs=len(event.run_ids))
    return event.id

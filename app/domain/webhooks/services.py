"""Managing webhooks: create (secret generated or given, shown once, stored sealed), list,
change, rotate the secret, delete, and the deliveries log."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import msgspec
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import pagination
from app.core.crypto import SecretBox
from app.core.errors import Conflict, Invalid, NotFound
from app.core.ids import uuid7
from app.db.database import Database
from app.domain.audit import services as audit
from app.domain.auth.principal import Principal
from app.domain.events import matching
from app.domain.quotas.services import Quotas
from app.domain.webhooks import schemas, verifiers
from app.domain.webhooks.models import Webhook, WebhookDelivery
from app.hooks.manager import KilnPluginManager


def seal_context(tenant_id: uuid.UUID, webhook_id: uuid.UUID) -> bytes:
    """Binds a sealed secret to its webhook: copied to another row, it fails to open."""
    return f"webhook:{tenant_id}:{webhook_id}".encode()


def url_for(base_url: str, webhook_id: uuid.UUID) -> str:
    return f"{base_url.rstrip('/')}/hooks/{webhook_id}"


def _out(row: Webhook, base_url: str, last_delivery_at: dt.datetime | None) -> dict[str, Any]:
    return {
        "id": row.id, "name": row.name, "url": url_for(base_url, row.id),
        "event_key": row.event_key, "key_expression": row.key_expression,
        "verifier": row.verifier, "config": row.config, "enabled": row.enabled,
        "has_secret": row.secret is not None,
        "previous_secret_expires_at": row.previous_secret_expires_at,
        "failed_verifications": row.failed_verifications, "last_failure_at": row.last_failure_at,
        "last_failure_reason": row.last_failure_reason, "last_delivery_at": last_delivery_at,
        "created_at": row.created_at, "updated_at": row.updated_at,
    }


def _last_delivery() -> Any:
    return (select(func.max(WebhookDelivery.received_at))
            .where(WebhookDelivery.tenant_id == Webhook.tenant_id,
                   WebhookDelivery.webhook_id == Webhook.id)
            .scalar_subquery())


def _check_key_expression(source: str | None) -> None:
    if source is not None:
        matching.compile_expression(source, "key_expression")


async def _name_free(session: AsyncSession, name: str, but: uuid.UUID | None = None) -> None:
    query = select(Webhook.id).where(Webhook.name == name)
    if but is not None:
        query = query.where(Webhook.id != but)
    if (await session.execute(query)).first() is not None:
        raise Conflict(f"a webhook named {name!r} already exists")


async def create(
    db: Database, principal: Principal, plugins: KilnPluginManager, box: SecretBox,
    base_url: str, body: schemas.WebhookCreate, ip: str | None, quotas: Quotas,
) -> schemas.WebhookCreated:
    verifier = await verifiers.get(plugins, body.verifier)
    verifiers.check_config(verifier, body.config)
    matching.check_key(body.event_key)
    _check_key_expression(body.key_expression)
    secret = body.secret if body.secret is not None else verifier.generate_secret()
    if body.secret is not None:
        verifiers.check_secret(verifier, body.secret)
    webhook_id, now = uuid7(), dt.datetime.now(dt.UTC)
    sealed = box.encrypt(secret, seal_context(principal.tenant_id, webhook_id)) if secret else None
    async with db.transaction(principal.tenancy()) as s:
        await _name_free(s, body.name)
        await quotas.admit_one_more(s, principal.tenant_id, "max_webhook_endpoints", Webhook,
                                    "webhooks")
        row = Webhook(
            tenant_id=principal.tenant_id, id=webhook_id, name=body.name,
            event_key=body.event_key, key_expression=body.key_expression,
            verifier=body.verifier, config=body.config, secret=sealed, enabled=body.enabled,
            failed_verifications=0, created_by=principal.user_id, created_at=now,
            updated_at=now,
        )
        s.add(row)
        audit.record(s, tenant_id=principal.tenant_id, action="webhook.created",
                     actor=principal, target_type="webhook", target_id=webhook_id,
                     details={"name": body.name, "verifier": body.verifier}, ip=ip)
    return schemas.WebhookCreated(**_out(row, base_url, None), secret=secret)


async def list_webhooks(
    db: Database, principal: Principal, base_url: str, limit: int | None, cursor: str | None,
) -> pagination.Page[schemas.Webhook]:
    size = pagination.check_limit(limit)
    after = pagination.decode_cursor(cursor)
    query = select(Webhook, _last_delivery()).order_by(Webhook.id).limit(size + 1)
    if after is not None:
        query = query.where(Webhook.id > after)
    async with db.transaction(principal.tenancy()) as s:
        rows = (await s.execute(query)).all()
    return pagination.page([schemas.Webhook(**_out(w, base_url, last)) for w, last in rows],
                           [w.id for w, _ in rows], size)


async def _get(session: AsyncSession, principal: Principal, webhook_id: uuid.UUID) -> Webhook:
    row = await session.get(Webhook, (principal.tenant_id, webhook_id), with_for_update=True)
    if row is None:
        raise NotFound(f"webhook {webhook_id} not found")
    return row


async def get(
    db: Database, principal: Principal, base_url: str, webhook_id: uuid.UUID
) -> schemas.Webhook:
    async with db.transaction(principal.tenancy()) as s:
        found = (await s.execute(select(Webhook, _last_delivery()).where(
            Webhook.id == webhook_id))).first()
    if found is None:
        raise NotFound(f"webhook {webhook_id} not found")
    return schemas.Webhook(**_out(found[0], base_url, found[1]))


async def update(
    db: Database, principal: Principal, plugins: KilnPluginManager, base_url: str,
    webhook_id: uuid.UUID, body: schemas.WebhookUpdate, ip: str | None,
) -> schemas.Webhook:
    changes = {k: v for k, v in msgspec.structs.asdict(body).items() if v is not msgspec.UNSET}
    if "event_key" in changes:
        matching.check_key(changes["event_key"])
    _check_key_expression(changes.get("key_expression"))
    async with db.transaction(principal.tenancy()) as s:
        row = await _get(s, principal, webhook_id)
        if "config" in changes:
            verifiers.check_config(await verifiers.get(plugins, row.verifier), changes["config"])
        if "name" in changes:
            await _name_free(s, changes["name"], but=webhook_id)
        for name, value in changes.items():
            setattr(row, name, value)
        row.updated_at = dt.datetime.now(dt.UTC)
        audit.record(s, tenant_id=principal.tenant_id, action="webhook.updated",
                     actor=principal, target_type="webhook", target_id=webhook_id,
                     details={"changed": sorted(changes)}, ip=ip)
    return await get(db, principal, base_url, webhook_id)


async def rotate_secret(
    db: Database, principal: Principal, plugins: KilnPluginManager, box: SecretBox,
    webhook_id: uuid.UUID, body: schemas.SecretRotate, ip: str | None,
) -> schemas.SecretRotated:
    now = dt.datetime.now(dt.UTC)
    context = seal_context(principal.tenant_id, webhook_id)
    async with db.transaction(principal.tenancy()) as s:
        row = await _get(s, principal, webhook_id)
        verifier = await verifiers.get(plugins, row.verifier)
        secret = body.secret if body.secret is not None else verifier.generate_secret()
        if not secret:
            raise Invalid(f"verifier {row.verifier!r} generates no secret: pass one")
        if body.secret is not None:
            verifiers.check_secret(verifier, body.secret)
        keep = body.keep_previous_seconds > 0 and row.secret is not None
        row.previous_secret = row.secret if keep else None
        row.previous_secret_expires_at = (
            now + dt.timedelta(seconds=body.keep_previous_seconds) if keep else None)
        row.secret = box.encrypt(secret, context)
        row.updated_at = now
        audit.record(s, tenant_id=principal.tenant_id, action="webhook.secret_rotated",
                     actor=principal, target_type="webhook", target_id=webhook_id,
                     details={"keep_previous_seconds": body.keep_previous_seconds}, ip=ip)
    return schemas.SecretRotated(webhook_id, secret, row.previous_secret_expires_at)


async def delete(
    db: Database, principal: Principal, webhook_id: uuid.UUID, ip: str | None
) -> None:
    async with db.transaction(principal.tenancy()) as s:
        row = await _get(s, principal, webhook_id)
        await s.delete(row)
        audit.record(s, tenant_id=principal.tenant_id, action="webhook.deleted",
                     actor=principal, target_type="webhook", target_id=webhook_id,
                     details={"name": row.name}, ip=ip)


async def deliveries(
    db: Database, principal: Principal, webhook_id: uuid.UUID, limit: int | None,
    cursor: str | None,
) -> pagination.Page[schemas.Delivery]:
    """Accepted deliveries, newest first (refused ones are only counted on the webhook)."""
    size = pagination.check_limit(limit)
    after = pagination.decode_cursor(cursor)
    query = (select(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook_id)
             .order_by(WebhookDelivery.id.desc()).limit(size + 1))
    if after is not None:
        query = query.where(WebhookDelivery.id < after)
    async with db.transaction(principal.tenancy()) as s:
        if await s.get(Webhook, (principal.tenant_id, webhook_id)) is None:
            raise NotFound(f"webhook {webhook_id} not found")
        rows = list((await s.execute(query)).scalars())
    return pagination.page([schemas.Delivery(
        id=r.id, delivery_id=r.delivery_id, sender_delivery_id=r.sender_delivery_id,
        event_id=r.event_id, event_key=r.event_key, run_count=r.run_count,
        body_bytes=r.body_bytes, note=r.note, received_at=r.received_at,
    ) for r in rows], [r.id for r in rows], size)


async def verifier_list(plugins: KilnPluginManager) -> schemas.VerifierList:
    known = await verifiers.registry(plugins)
    return schemas.VerifierList([
        schemas.Verifier(v.name, v.title, dict(v.config_schema))
        for v in sorted(known.values(), key=lambda v: v.name)
    ])

"""Alert channels: create, read, update, delete, test; and the deliveries log."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from app.core import egress, pagination
from app.core.errors import Conflict, Invalid, NotFound
from app.core.ids import uuid7
from app.db.database import Database
from app.domain.alerts import configs, runtime, schemas, sender
from app.domain.alerts.models import AlertAttempt, AlertChannel, AlertDelivery, new_webhook_id
from app.domain.audit import services as audit
from app.domain.auth.principal import Principal
from app.domain.quotas.services import Quotas
from app.hooks import outbox_events
from app.hooks.types import AlertChannelType

TEST_EVENT = "alert.test"


async def channel_types(alerting: runtime.Alerting) -> schemas.ChannelTypeList:
    found = await alerting.channel_types()
    return schemas.ChannelTypeList(items=[
        schemas.ChannelType(type=kind.type, title=kind.title, description=kind.description,
                            config_schema=dict(kind.config_schema), plugin=plugin)
        for plugin, kind in found.values()
    ])


def _out(row: AlertChannel) -> schemas.Channel:
    filters = row.filters or {}
    return schemas.Channel(
        id=row.id, type=row.type, name=row.name, config=dict(row.config or {}),
        secrets_set=sorted(row.secret_fields or []), events=list(row.events),
        filters=schemas.ChannelFilters(workflows=list(filters.get("workflows") or []),
                                       metadata=dict(filters.get("metadata") or {})),
        enabled=row.enabled, disabled_reason=row.disabled_reason,
        consecutive_failures=row.consecutive_failures, failing_since=row.failing_since,
        last_success_at=row.last_success_at, created_at=row.created_at, updated_at=row.updated_at,
    )


def _check_events(events: list[str]) -> list[str]:
    unknown = sorted(set(events) - outbox_events.CHANNEL_EVENTS)
    if unknown:
        allowed = ", ".join(sorted(outbox_events.CHANNEL_EVENTS))
        raise Invalid(f"unknown events {unknown}; channels may subscribe to: {allowed}")
    return sorted(set(events))


def _filters(filters: schemas.ChannelFilters) -> dict[str, Any]:
    return {"workflows": filters.workflows, "metadata": filters.metadata}


async def _kind(alerting: runtime.Alerting, type_name: str) -> AlertChannelType:
    found = await alerting.channel_types()
    if type_name not in found:
        raise Invalid(f"unknown channel type {type_name!r}; available: {', '.join(sorted(found))}")
    return found[type_name][1]


def _check_urls(
    alerting: runtime.Alerting, schema: Mapping[str, Any], config: dict[str, Any]
) -> None:
    """Refuse URLs the egress guard would refuse without resolving them (bad scheme, a
    non-public IP literal); names are checked again at every send, when they are resolved."""
    for name, prop in schema.get("properties", {}).items():
        value = config.get(name)
        if not isinstance(value, str) or prop.get("format") != "uri":
            continue
        try:
            url = egress.check_url(value)
        except egress.EgressRefused as exc:
            raise Invalid(f"config.{name}: {exc}") from None
        address = egress.ip_literal(url.host)
        if (address is not None and not alerting.egress.policy.allow_private
                and not egress.is_public_address(address)):
            raise Invalid(f"config.{name}: {address} is not a public address "
                          "(KILN_ALLOW_PRIVATE_EGRESS allows private ones)")


def _store_config(
    alerting: runtime.Alerting, row: AlertChannel, kind: AlertChannelType, config: dict[str, Any]
) -> None:
    configs.check(kind.config_schema, config)
    _check_urls(alerting, kind.config_schema, config)
    public, secret = configs.split(kind.config_schema, config)
    row.config = public
    row.secrets = configs.seal(alerting.box, row.tenant_id, row.id, secret)
    row.secret_fields = sorted(secret)


async def create(
    db: Database, principal: Principal, alerting: runtime.Alerting,
    body: schemas.ChannelCreate, ip: str | None, quotas: Quotas,
) -> schemas.ChannelCreated:
    kind = await _kind(alerting, body.type)
    config, generated = dict(body.config), {}
    generate = getattr(kind, "generate_config_secrets", None)
    if callable(generate):
        for name, value in generate().items():
            if not config.get(name):
                config[name] = generated[name] = value
    row = AlertChannel(
        tenant_id=principal.tenant_id, id=uuid7(), type=body.type, name=body.name.strip(),
        events=_check_events(body.events), filters=_filters(body.filters), enabled=body.enabled,
        created_by=principal.user_id,
    )
    _store_config(alerting, row, kind, config)
    try:
        async with db.transaction(principal.tenancy()) as s:
            await quotas.admit_one_more(s, principal.tenant_id, "max_alert_channels",
                                        AlertChannel, "alert channels")
            s.add(row)
            await s.flush()
            await s.refresh(row)
            audit.record(s, tenant_id=principal.tenant_id, action="alert_channel.created",
                         actor=principal, target_type="alert_channel", target_id=row.id,
                         details={"type": row.type, "name": row.name}, ip=ip)
    except IntegrityError as exc:
        raise Conflict(f"an alert channel named {body.name!r} already exists") from exc
    created = _out(row)
    return schemas.ChannelCreated(
        **{f: getattr(created, f) for f in created.__struct_fields__}, generated_secrets=generated
    )


async def list_channels(
    db: Database, principal: Principal, limit: int | None, cursor: str | None
) -> pagination.Page[schemas.Channel]:
    size = pagination.check_limit(limit)
    after = pagination.decode_cursor(cursor)
    query = select(AlertChannel).order_by(AlertChannel.id.desc()).limit(size + 1)
    if after is not None:
        query = query.where(AlertChannel.id < after)
    async with db.transaction(principal.tenancy()) as s:
        rows = list((await s.execute(query)).scalars())
    return pagination.page([_out(r) for r in rows], [r.id for r in rows], size)


async def get(db: Database, principal: Principal, channel_id: uuid.UUID) -> schemas.Channel:
    async with db.transaction(principal.tenancy()) as s:
        row = await s.get(AlertChannel, (principal.tenant_id, channel_id))
    if row is None:
        raise NotFound(f"alert channel {channel_id} not found")
    return _out(row)


async def update_channel(
    db: Database, principal: Principal, alerting: runtime.Alerting, channel_id: uuid.UUID,
    body: schemas.ChannelUpdate, ip: str | None,
) -> schemas.Channel:
    try:
        async with db.transaction(principal.tenancy()) as s:
            row = await s.get(AlertChannel, (principal.tenant_id, channel_id), with_for_update=True)
            if row is None:
                raise NotFound(f"alert channel {channel_id} not found")
            if body.config is not None:
                kind = await _kind(alerting, row.type)
                kept = configs.unseal(alerting.box, row.tenant_id, row.id, row.secrets)
                secret_names = configs.secret_fields(kind.config_schema)
                merged = {k: v for k, v in kept.items() if k in secret_names}
                _store_config(alerting, row, kind, {**merged, **body.config})
            if body.name is not None:
                row.name = body.name.strip()
            if body.events is not None:
                row.events = _check_events(body.events)
            if body.filters is not None:
                row.filters = _filters(body.filters)
            if body.enabled is True and not row.enabled:
                row.enabled, row.disabled_reason = True, None
                row.consecutive_failures, row.failing_since = 0, None
            elif body.enabled is False and row.enabled:
                row.enabled, row.disabled_reason = False, "disabled by a user"
                await s.execute(
                    update(AlertDelivery)
                    .where(AlertDelivery.channel_id == channel_id,
                           AlertDelivery.status == "pending")
                    .values(status="cancelled", finished_at=dt.datetime.now(dt.UTC),
                            last_error="channel disabled by a user")
                )
            row.updated_at = dt.datetime.now(dt.UTC)
            audit.record(s, tenant_id=principal.tenant_id, action="alert_channel.updated",
                         actor=principal, target_type="alert_channel", target_id=row.id,
                         details={"fields": sorted(
                             f for f in body.__struct_fields__ if getattr(body, f) is not None)},
                         ip=ip)
            await s.flush()
            await s.refresh(row)
    except IntegrityError as exc:
        raise Conflict(f"an alert channel named {body.name!r} already exists") from exc
    return _out(row)


async def delete_channel(
    db: Database, principal: Principal, channel_id: uuid.UUID, ip: str | None
) -> None:
    async with db.transaction(principal.tenancy()) as s:
        result = await s.execute(
            delete(AlertChannel).where(AlertChannel.id == channel_id).returning(AlertChannel.id)
        )
        if result.first() is None:
            raise NotFound(f"alert channel {channel_id} not found")
        audit.record(s, tenant_id=principal.tenant_id, action="alert_channel.deleted",
                     actor=principal, target_type="alert_channel", target_id=channel_id, ip=ip)


async def send_test(
    db: Database, principal: Principal, alerting: runtime.Alerting, channel_id: uuid.UUID
) -> schemas.Delivery:
    """Send a sample alert now, through the real channel; one attempt, no retries, and it does
    not count towards auto-disable. The attempt is in the deliveries log like any other."""
    async with db.transaction(principal.tenancy()) as s:
        channel = await s.get(AlertChannel, (principal.tenant_id, channel_id))
        if channel is None:
            raise NotFound(f"alert channel {channel_id} not found")
        far = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)  # keep the sender off it
        delivery = AlertDelivery(
            tenant_id=principal.tenant_id, id=uuid7(), channel_id=channel_id,
            webhook_id=new_webhook_id(), event=TEST_EVENT, payload=runtime.test_payload(),
            attempts=1, next_attempt_at=far,
        )
        s.add(delivery)
        await s.flush()
        await s.refresh(delivery)
    row: dict[str, Any] = {
        "tenant_id": principal.tenant_id, "id": delivery.id, "channel_id": channel_id,
        "webhook_id": delivery.webhook_id, "event": TEST_EVENT, "event_count": 1,
        "payload": delivery.payload, "attempts": 1, "started_at": dt.datetime.now(dt.UTC),
        "config": channel.config, "secrets": channel.secrets,
    }
    kind = (await alerting.channel_types()).get(channel.type, (None, None))[1]
    outcome = await alerting.attempt(
        kind, runtime.alert_from_row(row), alerting.channel_config(row), 1
    )
    async with db.raw(principal.tenancy()) as conn:
        await sender.record_outcome(conn, row, outcome, alerting.policy,
                                    count_failures=False, retry=False)
    page = await list_deliveries(db, principal, None, None, None, delivery_id=delivery.id)
    return page.items[0]


async def list_deliveries(
    db: Database, principal: Principal, channel_id: uuid.UUID | None, status: str | None,
    limit: int | None, cursor: str | None = None, *, delivery_id: uuid.UUID | None = None,
) -> pagination.Page[schemas.Delivery]:
    size = pagination.check_limit(limit)
    after = pagination.decode_cursor(cursor)
    query = select(AlertDelivery).order_by(AlertDelivery.id.desc()).limit(size + 1)
    if after is not None:
        query = query.where(AlertDelivery.id < after)
    if channel_id is not None:
        query = query.where(AlertDelivery.channel_id == channel_id)
    if status is not None:
        query = query.where(AlertDelivery.status == status)
    if delivery_id is not None:
        query = query.where(AlertDelivery.id == delivery_id)
    async with db.transaction(principal.tenancy()) as s:
        rows = list((await s.execute(query)).scalars())
        attempts = list((await s.execute(
            select(AlertAttempt).where(AlertAttempt.delivery_id.in_([r.id for r in rows]))
            .order_by(AlertAttempt.delivery_id, AlertAttempt.attempt)
        )).scalars()) if rows else []
    by_delivery: dict[uuid.UUID, list[schemas.Attempt]] = {}
    for a in attempts:
        by_delivery.setdefault(a.delivery_id, []).append(schemas.Attempt(
            attempt=a.attempt, started_at=a.started_at, finished_at=a.finished_at,
            succeeded=a.succeeded, status_code=a.status_code, detail=a.detail,
        ))
    items = [
        schemas.Delivery(
            id=r.id, channel_id=r.channel_id, webhook_id=r.webhook_id, event=r.event,
            event_count=r.event_count, status=r.status, attempts=by_delivery.get(r.id, []),
            next_attempt_at=r.next_attempt_at if r.status == "pending" else None,
            last_error=r.last_error, payload=r.payload, created_at=r.created_at,
            finished_at=r.finished_at,
        )
        for r in rows
    ]
    return pagination.page(items, [r.id for r in rows], size)

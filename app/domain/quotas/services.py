"""Per-tenant quotas, enforced in the database, answered with 429 + ``Retry-After``.

Limits come from the deployment's settings (``KILN_QUOTA_*``), overridden per tenant by
``tenants.quotas`` (a JSON object with the same names). Heartbeats, results and logs are never
limited: work already accepted must be able to finish.

* ``runs_per_minute`` — runs started (API, bulk, children) per fixed minute, counted with one
  atomic upsert on the tenant's ``tenant_usage`` row;
* ``max_queued`` — tasks waiting in the queue; counted at most every few seconds per process
  (an index-only count capped at the limit), so it may be exceeded briefly by a burst;
* ``max_workflows``, ``max_webhook_endpoints``, ``max_alert_channels`` — registered workflow
  names, inbound webhooks and alert channels;
  counted in the creating transaction under a per-tenant advisory lock, so two concurrent
  creates cannot both take the last slot (:meth:`Quotas.admit_one_more`);
* ``max_payload_bytes`` — size of one run's JSON input.

Count limits answer 429 too, with a nominal ``Retry-After`` of an hour: waiting does not free a
slot, deleting one does (the message says so). One status for every quota keeps clients simple.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, fields
from typing import Any, Literal

import msgspec
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import PayloadTooLarge, TooManyRequests
from app.db.database import Database
from app.db.tenancy import TenantContext

CHARGE_RUNS = """
INSERT INTO tenant_usage AS u (tenant_id, window_start, runs)
VALUES ($1, date_trunc('minute', now()), $2)
ON CONFLICT (tenant_id) DO UPDATE SET
  runs = CASE WHEN u.window_start = date_trunc('minute', now()) THEN u.runs + $2 ELSE $2 END,
  window_start = date_trunc('minute', now())
WHERE CASE WHEN u.window_start = date_trunc('minute', now()) THEN u.runs + $2 ELSE $2 END <= $3
RETURNING runs
"""
SECONDS_TO_NEXT_MINUTE = (
    "SELECT ceil(60 - extract(epoch FROM now() - date_trunc('minute', now())))::int"
)
TENANT_QUOTAS = "SELECT quotas FROM tenants WHERE id = $1"
TENANT_QUOTAS_IN_SESSION = text("SELECT quotas FROM tenants WHERE id = :tenant")
QUEUED = "SELECT count(*) FROM (SELECT 1 FROM queue_items WHERE tenant_id = $1 LIMIT $2) AS q"
COUNT_LOCK = 0x6B6C6E10  # advisory lock class of count quotas; the second key is the tenant's
QUEUED_CACHE_SECONDS = 2.0
LIMITS_CACHE_SECONDS = 5.0


@dataclass(frozen=True, slots=True)
class Limits:
    runs_per_minute: int = 600_000
    max_queued: int = 1_000_000
    max_workflows: int = 1_000
    max_webhook_endpoints: int = 1_000
    max_alert_channels: int = 100
    max_payload_bytes: int = 512 * 1024

    def merged(self, overrides: dict[str, Any]) -> Limits:
        known = {f.name for f in fields(self)}
        return Limits(**{**{f.name: getattr(self, f.name) for f in fields(self)},
                         **{k: int(v) for k, v in overrides.items() if k in known}})


def payload_size(value: Any) -> int:
    """Bytes of ``value`` as JSON (what the quota on run input measures)."""
    try:
        return len(msgspec.json.encode(value))
    except (TypeError, msgspec.EncodeError):
        return 0  # not JSON at all: the trigger itself refuses it with a clearer message


class Quotas:
    def __init__(self, db: Database, defaults: Limits) -> None:
        self.db = db
        self.defaults = defaults
        self._queued: dict[uuid.UUID, tuple[float, int]] = {}
        self._limits: dict[uuid.UUID, tuple[float, Limits]] = {}

    async def limits(self, tenant_id: uuid.UUID) -> Limits:
        now = time.monotonic()
        cached = self._limits.get(tenant_id)
        if cached is not None and now - cached[0] < LIMITS_CACHE_SECONDS:
            return cached[1]
        async with self.db.raw(TenantContext(tenant_id)) as conn:
            overrides = await conn.fetchval(TENANT_QUOTAS, tenant_id)
        limits = self.defaults.merged(overrides or {})
        self._limits[tenant_id] = (now, limits)
        return limits

    async def admit_runs(self, tenant_id: uuid.UUID, payload_sizes: list[int]) -> None:
        """Check payload sizes and the queue, then charge ``len(payload_sizes)`` runs."""
        limits = await self.limits(tenant_id)
        biggest = max(payload_sizes, default=0)
        if biggest > limits.max_payload_bytes:
            raise PayloadTooLarge(f"run input is {biggest} bytes; this tenant's limit is "
                                  f"{limits.max_payload_bytes}")
        if await self._queued_count(tenant_id, limits.max_queued) >= limits.max_queued:
            raise TooManyRequests(f"{limits.max_queued} tasks are already queued; start more "
                                  "workers or wait", retry_after=5)
        async with self.db.raw(TenantContext(tenant_id)) as conn:
            row = await conn.fetchrow(CHARGE_RUNS, tenant_id, len(payload_sizes),
                                      limits.runs_per_minute)
            if row is None:
                wait = await conn.fetchval(SECONDS_TO_NEXT_MINUTE)
                raise TooManyRequests(
                    f"more than {limits.runs_per_minute} runs per minute", retry_after=wait)

    async def admit_one_more(
        self, session: AsyncSession, tenant_id: uuid.UUID,
        quota: Literal["max_workflows", "max_webhook_endpoints", "max_alert_channels"],
        model: Any, noun: str, remedy: str = "delete one or ask the operator to raise the quota",
    ) -> None:
        """Refuse to create one more ``model`` row past the tenant's ``quota``. Call it in the
        creating transaction before the insert: the transaction-scoped advisory lock makes
        concurrent creates of the tenant count one after another, each seeing the others'
        committed rows. The tenant's limits are read in the same transaction (not from the cache
        on another connection: a pool full of creates would wait on itself)."""
        overrides = (await session.execute(TENANT_QUOTAS_IN_SESSION,
                                           {"tenant": tenant_id})).scalar_one_or_none()
        limit = getattr(self.defaults.merged(overrides or {}), quota)
        await session.execute(select(func.pg_advisory_xact_lock(
            COUNT_LOCK, func.hashtext(str(tenant_id)))))
        count = (await session.execute(select(func.count()).select_from(model).where(
            model.tenant_id == tenant_id))).scalar_one()
        if count >= limit:
            raise TooManyRequests(
                f"this tenant already has {count} {noun} (limit {limit}); {remedy}",
                retry_after=3600)

    async def _queued_count(self, tenant_id: uuid.UUID, cap: int) -> int:
        now = time.monotonic()
        cached = self._queued.get(tenant_id)
        if cached is not None and now - cached[0] < QUEUED_CACHE_SECONDS:
            return cached[1]
        async with self.db.raw(TenantContext(tenant_id)) as conn:
            count = int(await conn.fetchval(QUEUED, tenant_id, cap))
        self._queued[tenant_id] = (now, count)
        return count

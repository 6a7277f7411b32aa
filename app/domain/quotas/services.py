"""Per-tenant quotas, enforced in the database, answered with 429 + ``Retry-After``.

Limits come from the deployment's settings (``KILN_QUOTA_*``), overridden per tenant by
``tenants.quotas`` (a JSON object with the same names). Heartbeats, results and logs are never
limited: work already accepted must be able to finish.

* ``runs_per_minute`` — runs started (API, bulk, children) per fixed minute, counted with one
  atomic upsert on the tenant's ``tenant_usage`` row;
* ``max_queued`` — tasks waiting in the queue; counted at most every few seconds per process
  (an index-only count capped at the limit), so it may be exceeded briefly by a burst;
* ``max_workflows`` — registered workflow names;
* ``max_payload_bytes`` — size of one run's JSON input.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, fields
from typing import Any

import msgspec

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
QUEUED = "SELECT count(*) FROM (SELECT 1 FROM queue_items WHERE tenant_id = $1 LIMIT $2) AS q"
WORKFLOWS = "SELECT count(*) FROM workflows WHERE tenant_id = $1"
QUEUED_CACHE_SECONDS = 2.0
LIMITS_CACHE_SECONDS = 5.0


@dataclass(frozen=True, slots=True)
class Limits:
    runs_per_minute: int = 600_000
    max_queued: int = 1_000_000
    max_workflows: int = 1_000
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

    async def admit_workflow(self, tenant_id: uuid.UUID) -> None:
        limits = await self.limits(tenant_id)
        async with self.db.raw(TenantContext(tenant_id)) as conn:
            count = await conn.fetchval(WORKFLOWS, tenant_id)
        if count >= limits.max_workflows:
            raise TooManyRequests(f"this tenant already has {count} workflows (limit "
                                  f"{limits.max_workflows})", retry_after=3600)

    async def _queued_count(self, tenant_id: uuid.UUID, cap: int) -> int:
        now = time.monotonic()
        cached = self._queued.get(tenant_id)
        if cached is not None and now - cached[0] < QUEUED_CACHE_SECONDS:
            return cached[1]
        async with self.db.raw(TenantContext(tenant_id)) as conn:
            count = int(await conn.fetchval(QUEUED, tenant_id, cap))
        self._queued[tenant_id] = (now, count)
        return count

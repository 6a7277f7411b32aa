"""The delivery sender: sends due alert deliveries, with retries and auto-disable.

Safe in every replica. A pass claims due deliveries with ``FOR UPDATE SKIP LOCKED`` and commits
the claim at once (attempt counter +1, ``next_attempt_at`` pushed out by a lease), sends without
holding a connection, then records the outcome in a second short transaction. If the process
dies mid-send, the lease runs out and another pass retries: delivery is at least once, and the
``webhook-id`` is the same every time so receivers can deduplicate.

Idle, a pass that found nothing due reads when the first pending delivery is (its
``next_attempt_at``: a retry's backoff, a grouped alert's window) and the sender sleeps until
then, at most ``idle_interval``. Deliveries are created only by the outbox relay, which runs in
the leader and wakes the sender of its own process when it created some
(:mod:`app.domain.alerts.loops`); any replica's sender may send them, so the other replicas need
no NOTIFY and wake on their own schedule.

Rules (``docs/alerts.md``): retries back off exponentially with jitter (``Retry-After`` is
honoured), a delivery is given up after ``max_attempts``; a channel is disabled — and its pending
deliveries cancelled — after ``disable_after_failures`` consecutive failed attempts spanning
``disable_after_seconds``, or at once when the receiver answers 410 Gone.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import asyncpg
import structlog

from app.core.loop import Loop, LoopConfig
from app.db import tenancy
from app.db.database import Database
from app.domain.alerts import runtime
from app.hooks.types import AlertChannelType

log = structlog.get_logger("kiln.alerts")

MIN_SLEEP = 0.01
"""The shortest sleep until a due time: the clocks of Python and Postgres are not the same."""

CLAIM = """
UPDATE alert_deliveries d SET attempts = d.attempts + 1,
       next_attempt_at = now() + make_interval(secs => $2)
FROM alert_channels c
WHERE (d.tenant_id, d.id) IN (
        SELECT p.tenant_id, p.id FROM alert_deliveries p
        JOIN alert_channels e ON e.tenant_id = p.tenant_id AND e.id = p.channel_id AND e.enabled
        WHERE p.status = 'pending' AND p.next_attempt_at <= now()
        ORDER BY p.next_attempt_at LIMIT $1 FOR UPDATE OF p SKIP LOCKED)
  AND c.tenant_id = d.tenant_id AND c.id = d.channel_id
RETURNING d.tenant_id, d.id, d.channel_id, d.webhook_id, d.event, d.event_count, d.payload,
          d.attempts, c.type, c.config, c.secrets, now() AS started_at
"""
# Seconds until the first delivery CLAIM could take is due (<= 0: due; NULL: none): the first
# rows of alert_deliveries_due, skipping those of disabled channels.
NEXT_DUE_IN = """
SELECT extract(epoch FROM p.next_attempt_at - now())::float8 FROM alert_deliveries p
WHERE p.status = 'pending' AND EXISTS (
  SELECT FROM alert_channels e WHERE e.tenant_id = p.tenant_id AND e.id = p.channel_id
                                 AND e.enabled)
ORDER BY p.next_attempt_at LIMIT 1
"""
# Outcomes lock the channel first, then deliveries: one lock order, so concurrent outcomes of
# one channel (and the cancellation of its pending deliveries) cannot deadlock.
LOCK_CHANNEL = "SELECT 1 FROM alert_channels WHERE tenant_id = $1 AND id = $2 FOR UPDATE"
RECORD_ATTEMPT = """
INSERT INTO alert_attempts (tenant_id, delivery_id, attempt, started_at, succeeded, status_code,
                            detail)
VALUES ($1, $2, $3, $4, $5, $6, $7)
"""
SUCCEEDED = """
UPDATE alert_deliveries SET status = 'succeeded', finished_at = now(), last_error = NULL
WHERE tenant_id = $1 AND id = $2 AND status = 'pending'
"""
RETRY_OR_GIVE_UP = """
UPDATE alert_deliveries SET last_error = $3,
  status = CASE WHEN $4 THEN 'failed' ELSE 'pending' END,
  finished_at = CASE WHEN $4 THEN now() END,
  next_attempt_at = now() + make_interval(secs => $5)
WHERE tenant_id = $1 AND id = $2 AND status = 'pending'
"""
CHANNEL_OK = """
UPDATE alert_channels SET consecutive_failures = 0, failing_since = NULL, last_success_at = now()
WHERE tenant_id = $1 AND id = $2
"""
CHANNEL_FAILED = """
UPDATE alert_channels SET consecutive_failures = consecutive_failures + 1,
       failing_since = coalesce(failing_since, now())
WHERE tenant_id = $1 AND id = $2
RETURNING consecutive_failures, extract(epoch FROM now() - failing_since) AS failing_for
"""
DISABLE = """
UPDATE alert_channels SET enabled = false, disabled_reason = $3, updated_at = now()
WHERE tenant_id = $1 AND id = $2 AND enabled
"""
CANCEL_PENDING = """
UPDATE alert_deliveries SET status = 'cancelled', finished_at = now(), last_error = $3
WHERE tenant_id = $1 AND channel_id = $2 AND status = 'pending'
"""


@dataclass(frozen=True, slots=True)
class SenderConfig(LoopConfig):
    batch: int = 50
    """Deliveries claimed per pass."""
    concurrency: int = 10
    """Deliveries sent at the same time."""
    lease_slack: float = 30.0
    """Added to the attempt timeout: how long a claimed delivery waits before another pass
    assumes its sender died and retries it."""
    idle_interval: float | None = 10.0
    """The longest sleep after a pass that found nothing due; it sleeps until the first pending
    delivery's ``next_attempt_at`` when that is sooner. New deliveries wake it at once (the
    relay calls :meth:`Loop.wake` of its process's sender), so this is only the backstop."""


async def record_outcome(
    conn: asyncpg.Connection, row: Mapping[str, Any], outcome: runtime.Outcome,
    policy: runtime.DeliveryPolicy, *, count_failures: bool = True, retry: bool = True,
) -> None:
    """Store one attempt's outcome (in ``conn``'s transaction) and apply the channel rules."""
    tenant, delivery, channel = row["tenant_id"], row["id"], row["channel_id"]
    if count_failures:
        await conn.execute(LOCK_CHANNEL, tenant, channel)
    await conn.execute(
        RECORD_ATTEMPT, tenant, delivery, row["attempts"], row["started_at"], outcome.succeeded,
        outcome.status_code, outcome.detail,
    )
    if outcome.succeeded:
        await conn.execute(SUCCEEDED, tenant, delivery)
        if count_failures:
            await conn.execute(CHANNEL_OK, tenant, channel)
        return
    give_up = not retry or row["attempts"] >= policy.max_attempts
    delay = 0.0 if give_up else policy.backoff(row["attempts"], outcome.retry_after)
    await conn.execute(RETRY_OR_GIVE_UP, tenant, delivery, outcome.detail, give_up, delay)
    if not count_failures:
        return
    state = await conn.fetchrow(CHANNEL_FAILED, tenant, channel)
    reason = None
    if outcome.gone:
        reason = "the receiver answered 410 Gone"
    elif (state is not None and state["consecutive_failures"] >= policy.disable_after_failures
          and float(state["failing_for"]) >= policy.disable_after_seconds):
        reason = (f"{state['consecutive_failures']} consecutive failed attempts over "
                  f"{dt.timedelta(seconds=int(state['failing_for']))}")
    if reason:
        await conn.execute(DISABLE, tenant, channel, f"disabled automatically: {reason}")
        await conn.execute(CANCEL_PENDING, tenant, channel, f"channel disabled: {reason}")
        log.warning("alert channel disabled", action="alerts.channel_disabled",
                    tenant_id=str(tenant), channel_id=str(channel), reason=reason)


class DeliverySender(Loop):
    name = "alerts.sender"

    def __init__(
        self, db: Database, alerting: runtime.Alerting, config: SenderConfig | None = None
    ) -> None:
        self.sender_config = config or SenderConfig()
        super().__init__(self.sender_config)
        self.batch_size = self.sender_config.batch
        self.db = db
        self.alerting = alerting
        self._due_in: float | None = None  # seconds to the first pending delivery, last pass

    def idle_delay(self) -> float:
        """Until the first pending delivery is due, at most ``idle_interval``; ``interval``
        when one is due already (held by another replica's pass: do not spin)."""
        cap = self.config.idle_interval or self.config.interval
        due_in = self._due_in
        if due_in is None:
            return cap
        return min(cap, self.config.interval if due_in <= 0 else max(MIN_SLEEP, due_in))

    async def run_once(self) -> int:
        """Send one batch of due deliveries; returns how many attempts it made."""
        lease = self.alerting.timeout * 2 + self.sender_config.lease_slack
        async with self.db.raw(tenancy.ENGINE) as conn:
            rows = await conn.fetch(CLAIM, self.sender_config.batch, lease)
            if not rows:  # an idle pass: when to look again (alert_deliveries_due, first row)
                self._due_in = await conn.fetchval(NEXT_DUE_IN)
        if not rows:
            return 0
        types = {name: kind for name, (_, kind) in (await self.alerting.channel_types()).items()}
        gate = asyncio.Semaphore(self.sender_config.concurrency)

        async def one(row: asyncpg.Record) -> None:
            async with gate:
                try:
                    await self._deliver(row, types.get(row["type"]))
                except Exception:  # e.g. the database restarting: the lease expires, retried
                    log.exception("recording an alert attempt failed", action="alerts.error",
                                  delivery_id=str(row["id"]))

        await asyncio.gather(*(one(row) for row in rows))
        return len(rows)

    async def _deliver(self, row: asyncpg.Record, kind: AlertChannelType | None) -> None:
        try:
            config = self.alerting.channel_config(row)
        except Exception as exc:
            outcome = runtime.Outcome(False, detail=f"cannot open the channel's secrets: {exc}")
        else:
            alert = runtime.alert_from_row(row)
            outcome = await self.alerting.attempt(kind, alert, config, row["attempts"])
        async with self.db.raw(tenancy.ENGINE) as conn:
            await record_outcome(conn, row, outcome, self.alerting.policy)
        log.info("alert attempt", action="alerts.attempt", delivery_id=str(row["id"]),
                 type=row["type"], attempt=row["attempts"], succeeded=outcome.succeeded,
                 status_code=outcome.status_code)

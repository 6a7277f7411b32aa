"""The outbox relay: lifecycle events → ``on_*`` hooks and alert deliveries.

Safe in every replica: each pass locks a batch of outbox rows with ``FOR UPDATE SKIP LOCKED`` as
``kiln_engine``, calls the hooks, creates the deliveries of every matching channel and deletes
the rows, all in one transaction. A crash anywhere before the commit leaves the rows in place for
the next pass (hooks are therefore called at least once); nothing is lost between the engine's
commit and the alert.
"""

from __future__ import annotations

import asyncio
import fnmatch
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import asyncpg
import structlog

from app.core.ids import uuid7
from app.core.loop import Loop, LoopConfig
from app.db import tenancy
from app.db.database import Database
from app.domain.alerts import runtime
from app.domain.alerts.models import new_webhook_id
from app.hooks import outbox_events
from app.hooks.types import LifecycleEvent

log = structlog.get_logger("kiln.alerts")

CLAIM = """
SELECT tenant_id, id, event, payload FROM outbox ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED
"""
CHANNELS = """
SELECT tenant_id, id, events, filters FROM alert_channels
WHERE enabled AND tenant_id = ANY($1::uuid[])
"""
DELETE = """
DELETE FROM outbox o USING unnest($1::uuid[], $2::bigint[]) AS done (tenant_id, id)
WHERE o.tenant_id = done.tenant_id AND o.id = done.id
"""
# Serialises grouping decisions of one (channel, group) across replicas, until commit.
GROUP_LOCK = "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))"
LATEST_OF_GROUP = """
SELECT id, status, attempts, due_at, due_at > now() - make_interval(secs => $4) AS recent,
       jsonb_array_length(payload->'runs') AS listed
FROM alert_deliveries WHERE tenant_id = $1 AND channel_id = $2 AND group_key = $3
ORDER BY due_at DESC LIMIT 1
"""
FOLD = """
UPDATE alert_deliveries SET event_count = event_count + 1,
  payload = CASE WHEN $4 THEN jsonb_set(payload, '{runs}', payload->'runs' || $3::jsonb)
            ELSE payload END
WHERE tenant_id = $1 AND id = $2
"""
INSERT = """
INSERT INTO alert_deliveries (tenant_id, id, channel_id, webhook_id, event, group_key, payload,
                              due_at, next_attempt_at)
SELECT $1, $2, $3, $4, $5, $6, $7,
       coalesce($8::timestamptz + make_interval(secs => $9), now()),
       coalesce($8::timestamptz + make_interval(secs => $9), now())
"""


@dataclass(frozen=True, slots=True)
class RelayConfig(LoopConfig):
    batch: int = 200
    """Outbox rows per transaction."""
    concurrency: int = 50
    """Runs whose events are broadcast to plugins at the same time."""
    idle_interval: float | None = 30.0
    """Idle, the relay sleeps this long: every outbox write sends ``kiln_outbox`` at its commit
    (``write_outbox`` and ``count_down_runs`` in app/engine/sql/results.sql, the only writers),
    which wakes it at once (:meth:`Loop.nudge`, also during a pass: it then looks again at
    once); the interval is the backstop should a wake-up be missed."""


def matches(channel: asyncpg.Record, event: LifecycleEvent) -> bool:
    """Does ``channel`` (events + filters) want ``event``? (docs/alerts.md, "Filters")"""
    if event.event not in channel["events"]:
        return False
    filters: dict[str, Any] = channel["filters"] or {}
    patterns = filters.get("workflows") or []
    if patterns and not any(fnmatch.fnmatchcase(event.workflow or "", p) for p in patterns):
        return False
    wanted_metadata: dict[str, str] = filters.get("metadata") or {}
    return all(str(event.metadata.get(k)) == v for k, v in wanted_metadata.items())


class OutboxRelay(Loop):
    name = "alerts.outbox"

    def __init__(
        self, db: Database, alerting: runtime.Alerting, config: RelayConfig | None = None,
        on_deliveries: Callable[[], None] | None = None,
    ) -> None:
        self.relay_config = config or RelayConfig()
        self.on_deliveries = on_deliveries
        super().__init__(self.relay_config)
        self.batch_size = self.relay_config.batch
        self.db = db
        self.alerting = alerting

    async def run_once(self) -> int:
        """Relay one batch; returns how many outbox rows it consumed."""
        async with self.db.raw(tenancy.ENGINE) as conn:
            rows = await conn.fetch(CLAIM, self.relay_config.batch)
            if not rows:
                return 0
            tenants = list({row["tenant_id"] for row in rows})
            channels: dict[uuid.UUID, list[asyncpg.Record]] = defaultdict(list)
            for channel in await conn.fetch(CHANNELS, tenants):
                channels[channel["tenant_id"]].append(channel)
            events = await self._events(rows, channels)
            await self._notify(events)
            created = 0
            for event in events:
                if event.event in outbox_events.CHANNEL_EVENTS:
                    for channel in channels[event.tenant_id]:
                        if matches(channel, event):
                            created += await self._schedule(conn, channel, event)
            await conn.execute(DELETE, [r["tenant_id"] for r in rows], [r["id"] for r in rows])
        log.info("outbox relayed", action="alerts.relayed", events=len(rows), deliveries=created)
        if created and self.on_deliveries is not None:
            self.on_deliveries()
        return len(rows)

    async def _events(
        self, rows: list[asyncpg.Record], channels: dict[uuid.UUID, list[asyncpg.Record]]
    ) -> list[LifecycleEvent]:
        """The batch's events that some plugin or channel wants; the rest are only deleted
        (e.g. ``run.succeeded`` with no subscribed channel and no ``on_run_succeeded``)."""
        hooked = {event for event, hook in outbox_events.EVENT_HOOKS.items()
                  if outbox_events.implemented(self.alerting.pm, hook)}
        subscribed = {tenant: {e for channel in found for e in channel["events"]}
                      for tenant, found in channels.items()}
        events = []
        for row in rows:
            if row["event"] not in hooked and row["event"] not in subscribed.get(
                row["tenant_id"], ()
            ):
                continue
            payload = row["payload"] if isinstance(row["payload"], dict) else {}
            events.append(await self.alerting.with_run_url(LifecycleEvent.from_outbox(
                row["tenant_id"], row["id"], row["event"], payload
            )))
        return events

    async def _notify(self, events: list[LifecycleEvent]) -> None:
        """Broadcast the ``on_*`` hooks of a batch. Events of one run (or one worker) reach
        plugins in outbox order; different runs are notified concurrently, so one slow plugin
        costs a batch about one hook timeout, not one per event."""
        streams: dict[str, list[LifecycleEvent]] = defaultdict(list)
        for event in events:
            hook = outbox_events.EVENT_HOOKS.get(event.event)
            if hook and outbox_events.implemented(self.alerting.pm, hook):
                streams[event.run_id or event.worker_id or str(event.outbox_id)].append(event)
        gate = asyncio.Semaphore(self.relay_config.concurrency)

        async def notify(stream: list[LifecycleEvent]) -> None:
            async with gate:
                for event in stream:
                    await self.alerting.pm.broadcast(
                        outbox_events.EVENT_HOOKS[event.event], event=event,
                        egress=self.alerting.egress,
                    )

        await asyncio.gather(*(notify(stream) for stream in streams.values()))

    async def _schedule(
        self, conn: asyncpg.Connection, channel: asyncpg.Record, event: LifecycleEvent
    ) -> int:
        """Create the channel's delivery for ``event``, or fold it into its group's pending one.
        Returns 1 when a delivery row was created."""
        group_key = None
        after: Any = None
        if event.event in outbox_events.GROUPED_EVENTS and event.workflow:
            group_key = f"{event.event}:{event.workflow}"
            window = self.alerting.group_window
            await conn.execute(GROUP_LOCK, f"{channel['tenant_id']}:{channel['id']}:{group_key}")
            latest = await conn.fetchrow(
                LATEST_OF_GROUP, channel["tenant_id"], channel["id"], group_key, window
            )
            if latest is not None and latest["status"] == "pending" and latest["attempts"] == 0:
                await conn.execute(
                    FOLD, channel["tenant_id"], latest["id"], [runtime.grouped_run(event)],
                    latest["listed"] < runtime.MAX_GROUPED_RUNS,
                )
                return 0
            if latest is not None and latest["recent"]:
                after = latest["due_at"]  # next message of the group: one window later
        await conn.execute(
            INSERT, channel["tenant_id"], uuid7(), channel["id"], new_webhook_id(), event.event,
            group_key, runtime.delivery_payload(event), after,
            self.alerting.group_window if after is not None else 0.0,
        )
        return 1

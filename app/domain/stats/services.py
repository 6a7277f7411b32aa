"""The overview's figures over a recent window, computed in the database.

Every query narrows on ``id >= <the smallest UUIDv7 of the window's start>``: ids are UUIDv7,
so that is a range scan of the primary key ``(tenant_id, id)`` (RLS supplies the tenant), and
the cost follows the number of runs in the window, not the tenant's history. The longest window
is seven days for the same reason.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import text

from app.core.errors import Invalid
from app.db.database import Database
from app.domain.auth.principal import Principal
from app.domain.stats import schemas

# window → (its length, the width of one chart bucket); about 15 to 100 buckets each.
WINDOWS: dict[str, tuple[dt.timedelta, dt.timedelta]] = {
    "15m": (dt.timedelta(minutes=15), dt.timedelta(minutes=1)),
    "1h": (dt.timedelta(hours=1), dt.timedelta(minutes=1)),
    "6h": (dt.timedelta(hours=6), dt.timedelta(minutes=5)),
    "24h": (dt.timedelta(hours=24), dt.timedelta(minutes=15)),
    "7d": (dt.timedelta(days=7), dt.timedelta(hours=2)),
}
# date_bin's origin: buckets start at whole multiples of their width from here.
ORIGIN = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)

# Per workflow and (the ROLLUP row, grouping = 1) over all of them.
RUN_STATS = text("""
SELECT grouping(workflow_name) = 1 AS total, workflow_name,
       count(*) AS runs,
       count(*) FILTER (WHERE status = 'succeeded') AS succeeded,
       count(*) FILTER (WHERE status = 'failed') AS failed,
       count(*) FILTER (WHERE status = 'cancelled') AS cancelled,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM finished_at - started_at))
         AS duration_p50,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY extract(epoch FROM finished_at - started_at))
         AS duration_p95
FROM workflow_runs
WHERE id >= :floor
GROUP BY ROLLUP (workflow_name)
""")

# Queue latency of the window's tasks that started, per workflow of their run.
QUEUE_STATS = text("""
SELECT grouping(r.workflow_name) = 1 AS total, r.workflow_name,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM t.started_at - t.queued_at))
         AS queue_p50,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY extract(epoch FROM t.started_at - t.queued_at))
         AS queue_p95
FROM task_runs t
JOIN workflow_runs r ON r.tenant_id = t.tenant_id AND r.id = t.run_id AND r.id >= :floor
WHERE t.id >= :floor AND t.started_at IS NOT NULL AND t.queued_at IS NOT NULL
GROUP BY ROLLUP (r.workflow_name)
""")

BUCKETS = text("""
SELECT date_bin(make_interval(secs => :width), created_at, :origin) AS at, status,
       count(*) AS runs
FROM workflow_runs
WHERE id >= :floor
GROUP BY 1, 2
""")


def uuid7_floor(at: dt.datetime) -> uuid.UUID:
    """The smallest UUIDv7 of the millisecond ``at``: every id minted at or after it is ≥."""
    ms = int(at.timestamp() * 1000)
    return uuid.UUID(int=(ms & ((1 << 48) - 1)) << 80 | 0x7 << 76 | 0b10 << 62)


def _bucket_start(at: dt.datetime, width: dt.timedelta) -> dt.datetime:
    return ORIGIN + ((at - ORIGIN) // width) * width


def _stats(row: Any, queue: dict[str | None, Any]) -> schemas.WorkflowStats:
    name = None if row.total else row.workflow_name
    finished = row.succeeded + row.failed + row.cancelled
    waited = queue.get(name)
    return schemas.WorkflowStats(
        workflow=name, runs=row.runs, succeeded=row.succeeded, failed=row.failed,
        cancelled=row.cancelled, failure_rate=row.failed / finished if finished else None,
        duration_p50=row.duration_p50, duration_p95=row.duration_p95,
        queue_p50=waited.queue_p50 if waited else None,
        queue_p95=waited.queue_p95 if waited else None,
    )


async def overview(db: Database, principal: Principal, window: str) -> schemas.Overview:
    if window not in WINDOWS:
        raise Invalid(f"window must be one of {', '.join(WINDOWS)}, got {window!r}")
    length, width = WINDOWS[window]
    until = dt.datetime.now(dt.UTC)
    since = until - length
    floor = uuid7_floor(since)
    async with db.transaction(principal.tenancy()) as s:
        runs = (await s.execute(RUN_STATS, {"floor": floor})).all()
        queue = (await s.execute(QUEUE_STATS, {"floor": floor})).all()
        binned = (await s.execute(BUCKETS, {
            "floor": floor, "width": width.total_seconds(), "origin": ORIGIN})).all()
    waits = {None if q.total else q.workflow_name: q for q in queue}
    stats = [_stats(row, waits) for row in runs]
    # ROLLUP's grand-total row exists even over no runs at all.
    totals = next(x for x in stats if x.workflow is None)
    first = _bucket_start(since, width)
    buckets = {first + i * width: schemas.StatusBucket(at=first + i * width, counts={})
               for i in range(int((until - first) / width) + 1)}
    for row in binned:
        # A run's created_at (its transaction's start) may fall a moment before its id's time.
        bucket = buckets[max(first, min(row.at, max(buckets)))]
        bucket.counts[row.status] = bucket.counts.get(row.status, 0) + row.runs
    return schemas.Overview(
        window=window, since=since, until=until, bucket_seconds=int(width.total_seconds()),
        totals=totals,
        workflows=sorted((x for x in stats if x.workflow is not None), key=lambda x: -x.runs),
        buckets=list(buckets.values()),
    )

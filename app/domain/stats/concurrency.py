"""How full each concurrency key is: slots held now and work waiting for one.

``GET /api/v1/concurrency`` (app/domain/flow) lists who holds each slot; the dashboard needs the
counts, including what waits. A ready flow-controlled task waits in ``flow_queue`` in the
round-robin group of the key it competes for (``group_key``: the run-level key while its run
has no slot yet, else its task-level key), so the waiting count of a key is its group's rows —
runs for a run-level key, tasks for a task-level one. Keys are read by the tenant role (RLS).
"""

from __future__ import annotations

from sqlalchemy import text

from app.core import pagination
from app.db.database import Database
from app.domain.auth.principal import Principal
from app.domain.stats import schemas

USAGE = text("""
WITH held AS (
  SELECT h.key, min(h.scope) AS scope, min(h.strategy) AS strategy, count(*) AS running
  FROM concurrency_holds h
  JOIN workflow_runs r ON r.tenant_id = h.tenant_id AND r.id = h.run_id
  LEFT JOIN task_runs t ON h.scope = 'task' AND t.tenant_id = h.tenant_id AND t.id = h.holder_id
  WHERE CASE WHEN h.scope = 'task' THEN t.status = 'running'
             WHEN h.strategy = 'GROUP_ROUND_ROBIN' THEN r.status = 'running'
             ELSE r.status IN ('queued', 'running') END
  GROUP BY h.key
), waiting AS (
  SELECT q.group_key AS key,
         count(DISTINCT CASE WHEN q.flow->>'gr' = q.group_key THEN q.run_id
                             ELSE q.task_run_id END) AS queued,
         min(c->>'o') AS scope, min(c->>'s') AS strategy, max((c->>'m')::int) AS max_runs
  FROM flow_queue q
  CROSS JOIN LATERAL jsonb_array_elements(q.flow->'c') c
  WHERE q.group_key <> '' AND c->>'k' = q.group_key
  GROUP BY q.group_key
)
SELECT coalesce(w.key, h.key) AS key, coalesce(w.scope, h.scope) AS scope,
       coalesce(w.strategy, h.strategy) AS strategy, w.max_runs,
       coalesce(h.running, 0) AS running, coalesce(w.queued, 0) AS queued
FROM held h FULL JOIN waiting w ON w.key = h.key
ORDER BY coalesce(w.queued, 0) + coalesce(h.running, 0) DESC, 1
LIMIT :limit
""")


async def usage(
    db: Database, principal: Principal, limit: int | None
) -> list[schemas.ConcurrencyUsage]:
    """Keys with a slot held or work waiting, busiest first."""
    size = pagination.check_limit(limit)
    async with db.transaction(principal.tenancy()) as s:
        rows = (await s.execute(USAGE, {"limit": size})).all()
    return [schemas.ConcurrencyUsage(
        key=r.key, scope=r.scope, strategy=r.strategy, value=r.key.partition("=")[2],
        max_runs=r.max_runs, running=r.running, queued=r.queued) for r in rows]

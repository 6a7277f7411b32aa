-- name: due_sweeps
-- Seconds until each sweep's first row is due (<= 0: due now; NULL: none), in one cheap
-- statement: each min() reads the first entry of the partial index its sweep uses (an idle server
-- runs only this). `busy`: a task is running (it has a lease) or has a queue row — then a writer
-- may set a sooner due time (a claim's execution deadline, a failure's retry) without waking the
-- sweeper, which therefore looks again within its interval. $1: worker_lost_after seconds.
SELECT d.*,
  d.leases IS NOT NULL OR EXISTS (SELECT FROM queue_items) OR EXISTS (SELECT FROM flow_queue)
    AS busy
FROM (SELECT
  extract(epoch FROM (SELECT min(lease_expires_at) FROM task_runs WHERE status = 'running')
    - now())::float8 AS leases,
  extract(epoch FROM (SELECT min(deadline_at) FROM task_runs
                      WHERE status = 'running' AND deadline_at IS NOT NULL) - now())::float8
    AS deadlines,
  extract(epoch FROM (SELECT min(schedule_deadline_at) FROM task_runs
                      WHERE status = 'queued' AND schedule_deadline_at IS NOT NULL)
    - now())::float8 AS schedules,
  extract(epoch FROM (SELECT min(retry_at) FROM task_runs
                      WHERE status = 'pending' AND retry_at IS NOT NULL) - now())::float8
    AS retries,
  extract(epoch FROM (SELECT min(wake_at) FROM durable_waits
                      WHERE satisfied_at IS NULL AND wake_at IS NOT NULL) - now())::float8
    AS waits,
  extract(epoch FROM (SELECT min(last_heartbeat_at) FROM workers WHERE status = 'active')
    + make_interval(secs => $1) - now())::float8 AS workers) d;

-- name: expire_leases
-- Take back tasks whose lease ran out (worker died or hung): queue again, or fail past the limit.
WITH expired AS (
  SELECT tenant_id, id FROM task_runs
  WHERE status = 'running' AND lease_expires_at < now()
  ORDER BY lease_expires_at
  LIMIT $1
  FOR UPDATE SKIP LOCKED
)
UPDATE task_runs t SET
  status = CASE WHEN t.rescues + 1 > $2 THEN 'failed' ELSE 'queued' END,
  rescues = t.rescues + 1,
  error = CASE WHEN t.rescues + 1 > $2
    THEN format('lease lost %s times (worker died or stopped heartbeating)', t.rescues + 1) END,
  finished_at = CASE WHEN t.rescues + 1 > $2 THEN now() END,
  queued_at = now(), lease_expires_at = NULL, deadline_at = NULL,
  schedule_deadline_at = CASE WHEN t.rescues + 1 > $2 THEN NULL
    ELSE now() + make_interval(secs => t.schedule_timeout) END
FROM expired e
WHERE t.tenant_id = e.tenant_id AND t.id = e.id
RETURNING t.tenant_id, t.id, t.run_id, t.task_name, t.status, t.action, t.priority, t.attempt,
  t.worker_id, t.started_at, t.error;

-- name: expire_deadlines
-- Fail running tasks past their execution timeout: retry when attempts remain, else failed.
WITH expired AS (
  SELECT tenant_id, id FROM task_runs
  WHERE status = 'running' AND deadline_at < now()
  ORDER BY deadline_at
  LIMIT $1
  FOR UPDATE SKIP LOCKED
)
UPDATE task_runs t SET
  status = CASE WHEN t.attempt - t.rescues - t.releases < t.max_attempts THEN 'pending' ELSE 'failed' END,
  error = format('execution timeout: task ran longer than %ss', t.execution_timeout),
  retry_at = CASE WHEN t.attempt - t.rescues - t.releases < t.max_attempts
    THEN now() + make_interval(secs => least(t.backoff_max, power(t.backoff_factor, t.attempt - 1))
                                       * (0.8 + random() * 0.2)) END,
  wait_reason = CASE WHEN t.attempt - t.rescues - t.releases < t.max_attempts THEN 'retry' END,
  finished_at = CASE WHEN t.attempt - t.rescues - t.releases < t.max_attempts THEN NULL ELSE now() END,
  lease_expires_at = NULL, deadline_at = NULL
FROM expired e
WHERE t.tenant_id = e.tenant_id AND t.id = e.id
RETURNING t.tenant_id, t.id, t.run_id, t.task_name, t.status, t.action, t.priority, t.attempt,
  t.worker_id, t.started_at, t.error;

-- name: due_retries
-- Queue tasks whose retry backoff has elapsed.
WITH due AS (
  SELECT tenant_id, id FROM task_runs
  WHERE status = 'pending' AND retry_at <= now()
  ORDER BY retry_at
  LIMIT $1
  FOR UPDATE SKIP LOCKED
)
UPDATE task_runs t SET status = 'queued', queued_at = now(), retry_at = NULL, wait_reason = NULL,
  schedule_deadline_at = now() + make_interval(secs => t.schedule_timeout)
FROM due d
WHERE t.tenant_id = d.tenant_id AND t.id = d.id
RETURNING t.tenant_id, t.id, t.run_id, t.action, t.priority;

-- name: dequeue_tasks
-- Remove the queue rows of tasks (any tenants) that will never be claimed now.
DELETE FROM queue_items q
USING unnest($1::uuid[], $2::text[], $3::uuid[]) AS x(tenant_id, action, id)
WHERE q.tenant_id = x.tenant_id AND q.action = x.action AND q.task_run_id = x.id;

-- name: expire_schedules
-- Fail queued tasks that no worker started within their schedule timeout (no retry: nothing ran).
WITH expired AS (
  SELECT tenant_id, id FROM task_runs
  WHERE status = 'queued' AND schedule_deadline_at < now()
  ORDER BY schedule_deadline_at
  LIMIT $1
  FOR UPDATE SKIP LOCKED
)
UPDATE task_runs t SET status = 'failed', finished_at = now(), schedule_deadline_at = NULL,
  error = format('schedule timeout: no worker started the task within %ss', t.schedule_timeout)
FROM expired e
WHERE t.tenant_id = e.tenant_id AND t.id = e.id
RETURNING t.tenant_id, t.id, t.run_id, t.task_name, t.status, t.action, t.priority, t.attempt,
  t.worker_id, t.started_at, t.error;

-- name: lose_workers
-- Mark workers silent for longer than $1 seconds as lost.
UPDATE workers SET status = 'lost'
WHERE status = 'active' AND last_heartbeat_at < now() - make_interval(secs => $1)
RETURNING tenant_id, id, name;

-- name: queue_depth
-- Ready tasks per tenant and workflow, and the age of the oldest (for /metrics and autoscaling).
SELECT q.tenant_id, split_part(q.action, ':', 1) AS workflow, count(*) AS depth,
  extract(epoch FROM now() - min(t.queued_at)) AS oldest_seconds
FROM queue_items q
JOIN task_runs t ON t.tenant_id = q.tenant_id AND t.id = q.task_run_id AND t.status = 'queued'
GROUP BY 1, 2;

-- name: analyze_stale
-- ANALYZE the engine's hot tables that changed by at least $1 rows and $2 of their size since
-- their last ANALYZE (migration 0008); returns the tables analyzed and the rows ever inserted,
-- updated or deleted in those tables as reported so far (cumulative, not reset by ANALYZE: the
-- same in two passes, nothing changed in between).
SELECT kiln_private.analyze_stale($1, $2) AS analyzed,
  (SELECT sum(s.n_tup_ins + s.n_tup_upd + s.n_tup_del) FROM pg_stat_user_tables s
   WHERE s.schemaname = 'public'
     AND s.relname IN ('workflow_runs', 'task_runs', 'queue_items', 'flow_queue', 'task_attempts',
                       'outbox'))::bigint AS changes;

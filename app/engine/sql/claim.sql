-- name: claim
-- Take up to $3 ready plain tasks of the worker's actions in rank order (priority with aging) and
-- lease them; mark their runs running and return what the tasks need of them (start_runs, in the
-- same round trip). Only for a worker that is not stopped, whose sign of life it records like
-- touch_worker, and announces a lost worker's return like it (one round trip less per poll).
-- Always one row more: worker_alive says whether the worker may claim at all, flow_waiting
-- whether flow-controlled tasks of these actions are queued too (the row's task columns are NULL
-- when nothing was leased).
WITH seen AS (
  SELECT status FROM workers WHERE tenant_id = $1 AND id = $4 AND status <> 'stopped'
), alive AS (
  SELECT EXISTS (SELECT 1 FROM seen) AS alive
), touched AS (
  UPDATE workers SET last_heartbeat_at = now(), status = 'active'
  WHERE tenant_id = $1 AND id = $4 AND status <> 'stopped'
    AND (status <> 'active' OR last_heartbeat_at < now() - interval '1 second')
), revived AS (
  SELECT pg_notify('kiln_changes', '{"tenant":"' || $1::uuid || '","workers":["' || $4::uuid
                                   || '"]}')
  FROM seen WHERE seen.status = 'lost'
), candidates AS (
  SELECT q.tenant_id, q.id, q.rank
  FROM alive CROSS JOIN unnest($2::text[]) AS a(action)
  CROSS JOIN LATERAL (
    SELECT tenant_id, id, rank FROM queue_items
    WHERE tenant_id = $1 AND action = a.action
    ORDER BY rank, id
    LIMIT $3
    FOR UPDATE SKIP LOCKED
  ) AS q
  WHERE alive.alive
  ORDER BY q.rank, q.id
  LIMIT $3
), picked AS (
  -- By primary key from an array, not a join: a join was planned as a scan of the whole queue
  -- (ops/bench/profile.md §1).
  DELETE FROM queue_items d
  WHERE d.tenant_id = $1 AND d.id = ANY(ARRAY(SELECT c.id FROM candidates c))
  RETURNING d.task_run_id
), leased AS (
  UPDATE task_runs t
  SET status = 'running', attempt = t.attempt + 1, worker_id = $4, lease_id = gen_random_uuid(),
      lease_expires_at = now() + make_interval(secs => $5), started_at = now(),
      deadline_at = now() + make_interval(secs => t.execution_timeout), retry_at = NULL,
      wait_reason = NULL, schedule_deadline_at = NULL
  WHERE t.tenant_id = $1 AND t.id = ANY(ARRAY(SELECT p.task_run_id FROM picked p))
    AND t.status = 'queued'
  RETURNING t.id, t.run_id, t.task_name, t.action, t.attempt, t.lease_id, t.execution_timeout,
    t.kind
), started AS (
  UPDATE workflow_runs SET status = 'running', started_at = now()
  WHERE tenant_id = $1 AND id = ANY(ARRAY(SELECT l.run_id FROM leased l)) AND status = 'queued'
)
-- The run columns come from the statement's snapshot, before `started`: unchanged by it.
SELECT l.*, r.workflow_name, r.input, r.metadata, r.version_id, w.flow_waiting, w.worker_alive
FROM (SELECT EXISTS (SELECT 1 FROM flow_queue f
                     WHERE f.tenant_id = $1 AND f.action = ANY($2::text[])) AS flow_waiting,
             (SELECT alive FROM alive) AS worker_alive) AS w
LEFT JOIN leased l ON true
LEFT JOIN LATERAL (
  SELECT workflow_name, input, metadata, version_id FROM workflow_runs
  WHERE tenant_id = $1 AND id = l.run_id
) AS r ON true
WHERE (SELECT count(*) FROM revived) >= 0;

-- name: start_runs
-- Mark runs running at their first claimed task, and return what their tasks need.
WITH started AS (
  UPDATE workflow_runs SET status = 'running', started_at = now()
  WHERE tenant_id = $1 AND id = ANY($2::uuid[]) AND status = 'queued'
)
SELECT id, workflow_name, input, metadata, version_id
FROM workflow_runs WHERE tenant_id = $1 AND id = ANY($2::uuid[]);

-- name: parent_outputs
-- Outputs of succeeded tasks with the given names in the given runs (and which were skipped).
SELECT run_id, task_name, output, status FROM task_runs
WHERE tenant_id = $1 AND run_id = ANY($2::uuid[]) AND task_name = ANY($3::text[])
  AND status IN ('succeeded', 'skipped');

-- name: failed_task_errors
-- Errors of the failed tasks of some runs (what their on-failure task receives).
SELECT run_id, task_name, error FROM task_runs
WHERE tenant_id = $1 AND run_id = ANY($2::uuid[]) AND kind = 'task' AND status = 'failed';

-- name: refresh_deadline
-- Push a running task's execution deadline out to at least $4 seconds from now (fenced).
UPDATE task_runs SET deadline_at = greatest(deadline_at, now() + make_interval(secs => $4))
WHERE tenant_id = $1 AND id = $2 AND lease_id = $3 AND status = 'running'
RETURNING deadline_at;

-- name: touch_worker
-- Record a sign of life from a worker; no row means the worker is unknown or stopped. The row is
-- written at most once a second: a worker's concurrent polls would otherwise queue on its row
-- lock for the rest of each other's claim transaction (and each write is a row version). A lost
-- worker that shows up again is announced on the change feed (feed.workers_payload, byte for
-- byte), as its loss was; ``revived`` runs because the final WHERE reads it.
WITH seen AS (
  SELECT actions, slots, labels, status FROM workers
  WHERE tenant_id = $1 AND id = $2 AND status <> 'stopped'
), touched AS (
  UPDATE workers SET last_heartbeat_at = now(), status = 'active'
  WHERE tenant_id = $1 AND id = $2 AND status <> 'stopped'
    AND (status <> 'active' OR last_heartbeat_at < now() - interval '1 second')
), revived AS (
  SELECT pg_notify('kiln_changes', '{"tenant":"' || $1::uuid || '","workers":["' || $2::uuid
                                   || '"]}')
  FROM seen WHERE seen.status = 'lost'
)
SELECT actions, slots, labels FROM seen WHERE (SELECT count(*) FROM revived) >= 0;

-- name: extend_leases
-- Heartbeat: extend the leases the worker still holds; the others are missing from the result.
UPDATE task_runs t SET lease_expires_at = now() + make_interval(secs => $4)
FROM unnest($2::uuid[], $3::uuid[]) AS h(id, lease_id)
WHERE t.tenant_id = $1 AND t.id = ANY($2::uuid[]) AND t.id = h.id AND t.lease_id = h.lease_id
  AND t.status = 'running' AND t.worker_id = $5
RETURNING t.id;

-- name: insert_logs
-- Append task log lines; lines of a lease that is no longer current are dropped.
INSERT INTO task_logs (tenant_id, task_run_id, run_id, attempt, at, level, message)
SELECT $1, t.id, t.run_id, t.attempt, l.at, l.level, l.message
FROM unnest($2::uuid[], $3::uuid[], $4::timestamptz[], $5::text[], $6::text[])
  AS l(task_run_id, lease_id, at, level, message)
JOIN task_runs t ON t.tenant_id = $1 AND t.id = l.task_run_id AND t.lease_id = l.lease_id
WHERE t.id = ANY($2::uuid[])  -- an index lookup per line whatever the estimates (results.sql)
RETURNING run_id;

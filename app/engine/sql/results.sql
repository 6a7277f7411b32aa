-- Statements joining a batch (unnest arrays) to a big table repeat the batch's keys as
-- `= ANY(array)` on the table's unique key: the scan is then an index lookup per batch key
-- whatever the planner's estimates (a young table without statistics made it pick a join that
-- read every row of the tenant per batch: ops/bench/profile.md §1).

-- name: finish_tasks
-- Apply worker results fenced on lease and status (a result of a lost lease changes nothing),
-- record each finished attempt and queue the change feed's notification: one round trip.
-- ``attempts`` keeps one history row per finished attempt that did not end the task's epoch in
-- success (never overwritten), with the result's error and traceback. A succeeded attempt is
-- the task row itself — its attempt, worker, start and finish — until a replay reopens the task
-- (reset_tasks writes its row then): one insert and one foreign-key check fewer per task. ``notified`` is feed.publish in SQL: one
-- pg_notify('kiln_changes', …) per tenant, sent at commit, its payload byte for byte what
-- feed.payload builds (run ids sorted: uuid order is the order of their text; at most $10 of
-- them, else null). A CTE that is only a SELECT runs only when read: the final WHERE reads it
-- once (an InitPlan), before any row is returned.
WITH finished AS (
  UPDATE task_runs t SET
    status = CASE
      WHEN r.outcome = 'succeeded' THEN 'succeeded'
      WHEN r.outcome = 'released' THEN 'queued'
      WHEN r.retryable AND t.attempt - t.rescues - t.releases < t.max_attempts THEN 'pending'
      ELSE 'failed' END,
    output = CASE WHEN r.outcome = 'succeeded' THEN r.output::jsonb END,
    error = r.error,
    releases = CASE WHEN r.outcome = 'released' THEN t.releases + 1 ELSE t.releases END,
    retry_at = CASE WHEN r.outcome = 'failed' AND r.retryable
                     AND t.attempt - t.rescues - t.releases < t.max_attempts
      THEN now() + make_interval(secs => least(t.backoff_max, power(t.backoff_factor, t.attempt - 1))
                                         * (0.8 + random() * 0.2)) END,
    finished_at = CASE WHEN r.outcome = 'succeeded'
                         OR (r.outcome = 'failed'
                             AND NOT (r.retryable AND t.attempt - t.rescues - t.releases < t.max_attempts))
                       THEN now() END,
    queued_at = CASE WHEN r.outcome = 'released' THEN now() ELSE t.queued_at END,
    schedule_deadline_at = CASE WHEN r.outcome = 'released'
      THEN now() + make_interval(secs => t.schedule_timeout) END,
    wait_reason = CASE WHEN r.outcome = 'failed' AND r.retryable
                         AND t.attempt - t.rescues - t.releases < t.max_attempts THEN 'retry' END,
    lease_expires_at = NULL, deadline_at = NULL
  FROM unnest($2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::text[], $7::bool[], $9::text[])
      AS r(id, lease_id, outcome, output, error, retryable, traceback),
    workflow_runs w
  WHERE t.tenant_id = $1 AND t.id = ANY($2::uuid[]) AND t.id = r.id AND t.lease_id = r.lease_id
    AND t.status = 'running' AND t.worker_id = $8 AND w.tenant_id = t.tenant_id AND w.id = t.run_id
  RETURNING t.tenant_id, t.id, t.run_id, t.task_name, t.status, t.action, t.priority, t.attempt,
    t.worker_id, t.started_at, t.error, w.version_id, w.workflow_name, r.outcome, r.traceback
), attempts AS (
  INSERT INTO task_attempts (tenant_id, task_run_id, attempt, run_id, worker_id, status,
    started_at, error, traceback)
  SELECT f.tenant_id, f.id, f.attempt, f.run_id, f.worker_id, f.outcome, f.started_at, f.error,
    f.traceback
  FROM finished f
  WHERE f.outcome <> 'succeeded'
  ON CONFLICT DO NOTHING
), notified AS (
  SELECT pg_notify('kiln_changes', '{"tenant":"' || x.tenant_id || '","runs":'
    || CASE WHEN count(*) <= $10 THEN '[' || string_agg('"' || x.run_id || '"', ',' ORDER BY x.run_id)
            || ']' ELSE 'null' END
    || ',"logs":false}')
  FROM (SELECT DISTINCT f.tenant_id, f.run_id FROM finished f) AS x
  GROUP BY x.tenant_id
)
SELECT f.tenant_id, f.id, f.run_id, f.task_name, f.status, f.action, f.priority, f.attempt,
  f.error, f.version_id, f.workflow_name
FROM finished f
WHERE (SELECT count(*) FROM notified) >= 0;

-- name: record_attempts
-- Keep one history row per finished attempt (never overwritten).
INSERT INTO task_attempts (tenant_id, task_run_id, attempt, run_id, worker_id, status, started_at,
  error, traceback)
SELECT a.tenant_id, a.id, a.attempt, a.run_id, a.worker_id, a.status, a.started_at, a.error,
  a.traceback
FROM unnest($1::uuid[], $2::uuid[], $3::int[], $4::uuid[], $5::uuid[], $6::text[],
            $7::timestamptz[], $8::text[], $9::text[])
  AS a(tenant_id, id, attempt, run_id, worker_id, status, started_at, error, traceback)
ON CONFLICT DO NOTHING;

-- name: release_children
-- Count down the pending parents of children; those reaching zero become queued, and their
-- tenants get ``kiln_queue`` at commit (the caller enqueues them without notifying again;
-- ``notified`` runs because the final WHERE reads it).
WITH released AS (
  UPDATE task_runs t SET
    pending_parents = t.pending_parents - d.n,
    status = CASE WHEN t.pending_parents - d.n = 0 THEN 'queued' ELSE t.status END,
    queued_at = CASE WHEN t.pending_parents - d.n = 0 THEN now() END,
    schedule_deadline_at = CASE WHEN t.pending_parents - d.n = 0
      THEN now() + make_interval(secs => t.schedule_timeout) END
  FROM (
    SELECT tenant_id, run_id, name, count(*)::int AS n
    FROM unnest($1::uuid[], $2::uuid[], $3::text[]) AS x(tenant_id, run_id, name)
    GROUP BY 1, 2, 3
  ) AS d
  WHERE t.tenant_id = ANY($1::uuid[]) AND t.run_id = ANY($2::uuid[])
    AND t.task_name = ANY($3::text[])
    AND t.tenant_id = d.tenant_id AND t.run_id = d.run_id AND t.task_name = d.name
    AND t.status = 'pending'
  RETURNING t.tenant_id, t.id, t.action, t.priority, t.status
), notified AS (
  SELECT pg_notify('kiln_queue', q.tenant_id::text)
  FROM (SELECT DISTINCT r.tenant_id FROM released r WHERE r.status = 'queued') AS q
)
SELECT r.tenant_id, r.id, r.action, r.priority, r.status
FROM released r
WHERE (SELECT count(*) FROM notified) >= 0;

-- name: cancel_named_tasks
-- Cancel not-yet-started tasks by run and name (descendants of a failed or cancelled task).
UPDATE task_runs t SET status = 'cancelled', finished_at = now(), error = x.reason,
  wait_reason = NULL, retry_at = NULL
FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[]) AS x(tenant_id, run_id, name, reason)
WHERE t.tenant_id = ANY($1::uuid[]) AND t.run_id = ANY($2::uuid[])
  AND t.task_name = ANY($3::text[])
  AND t.tenant_id = x.tenant_id AND t.run_id = x.run_id AND t.task_name = x.name
  AND t.status IN ('pending', 'queued')
RETURNING t.tenant_id, t.id, t.run_id, t.task_name;

-- name: count_down_runs
-- Subtract finished tasks from their runs; a run reaching zero gets its final status, output and
-- error, and its run.<status> outbox event. The final status, output and error come from one pass
-- over the run's tasks, and none for the others (the sub-select's condition on the run alone is
-- a one-time filter) nor for a run whose only task succeeded in this batch: the caller names it
-- and its output ($6, $7: the run is succeeded with {name: output}, what the pass would find).
-- The sub-select stays in SET, evaluated per updated row: a run updated concurrently is re-read
-- after its lock (READ COMMITTED) and decided from its current count.
-- The event (write_outbox's rules and payload, in SQL: $3 the run events always written, $4 those
-- written only for a tenant with an enabled alert channel wanting them, $5 its time) sends
-- ``kiln_outbox`` at commit when written; ``notified`` runs because the final WHERE reads it.
WITH counted AS (
  UPDATE workflow_runs w SET
    pending_tasks = w.pending_tasks - d.n,
    (status, output, error) = (
      SELECT
        CASE WHEN w.pending_tasks - d.n > 0 THEN w.status
             WHEN d.sole IS NOT NULL THEN 'succeeded'
             WHEN bool_or(t.status = 'failed') FILTER (WHERE t.kind = 'task') THEN 'failed'
             WHEN bool_or(t.status = 'cancelled') FILTER (WHERE t.kind = 'task') THEN 'cancelled'
             ELSE 'succeeded' END,
        CASE WHEN w.pending_tasks - d.n > 0 THEN w.output
             WHEN d.sole IS NOT NULL THEN jsonb_build_object(d.sole, d.sole_output::jsonb)
             ELSE jsonb_object_agg(t.task_name, t.output)
                    FILTER (WHERE t.is_leaf AND t.status = 'succeeded') END,
        CASE WHEN w.pending_tasks - d.n > 0 THEN w.error
             WHEN d.sole IS NOT NULL THEN NULL
             ELSE string_agg(t.task_name || ': ' || t.error, '; ' ORDER BY t.finished_at)
                    FILTER (WHERE t.status = 'failed' AND t.kind = 'task') END
      FROM task_runs t
      WHERE w.pending_tasks - d.n <= 0 AND d.sole IS NULL
        AND t.tenant_id = w.tenant_id AND t.run_id = w.id),
    finished_at = CASE WHEN w.pending_tasks - d.n > 0 THEN NULL ELSE now() END
  FROM (
    SELECT tenant_id, run_id, count(*)::int AS n,
      CASE WHEN count(*) = 1 THEN min(sole) END AS sole, min(sole_output) AS sole_output
    FROM unnest($1::uuid[], $2::uuid[], $6::text[], $7::text[])
      AS x(tenant_id, run_id, sole, sole_output)
    GROUP BY 1, 2
  ) AS d
  WHERE w.tenant_id = ANY($1::uuid[]) AND w.id = ANY($2::uuid[])
    AND w.tenant_id = d.tenant_id AND w.id = d.run_id
  RETURNING w.tenant_id, w.id, w.version_id, w.workflow_name, w.status, w.pending_tasks, w.error,
    w.metadata
), written AS (
  INSERT INTO outbox (tenant_id, event, payload)
  SELECT c.tenant_id, 'run.' || c.status, jsonb_build_object('event', 'run.' || c.status,
    'run_id', c.id, 'workflow', c.workflow_name, 'status', c.status, 'error', c.error,
    'metadata', c.metadata, 'at', $5::text)
  FROM counted c
  WHERE c.pending_tasks = 0 AND ('run.' || c.status = ANY($3::text[])
    OR ('run.' || c.status = ANY($4::text[]) AND EXISTS (
      SELECT 1 FROM alert_channels a
      WHERE a.tenant_id = c.tenant_id AND a.enabled AND 'run.' || c.status = ANY(a.events))))
  RETURNING 1
), notified AS (
  SELECT pg_notify('kiln_outbox', '') WHERE EXISTS (SELECT FROM written)
)
SELECT c.tenant_id, c.id, c.version_id, c.workflow_name, c.status, c.pending_tasks
FROM counted c
WHERE (SELECT count(*) FROM notified) >= 0;

-- name: on_failure_due
-- On-failure tasks of runs whose other tasks all finished: queue them when a task failed, else
-- cancel them (not needed).
UPDATE task_runs t SET
  status = CASE WHEN f.failed THEN 'queued' ELSE 'cancelled' END,
  queued_at = CASE WHEN f.failed THEN now() END,
  schedule_deadline_at = CASE WHEN f.failed
    THEN now() + make_interval(secs => t.schedule_timeout) END,
  finished_at = CASE WHEN f.failed THEN NULL ELSE now() END,
  error = CASE WHEN f.failed THEN NULL ELSE 'not needed: no task failed' END
FROM (
  SELECT x.tenant_id, x.run_id, EXISTS (
    SELECT 1 FROM task_runs ft WHERE ft.tenant_id = x.tenant_id AND ft.run_id = x.run_id
      AND ft.kind = 'task' AND ft.status = 'failed') AS failed
  FROM unnest($1::uuid[], $2::uuid[]) AS x(tenant_id, run_id)
) AS f
WHERE t.tenant_id = ANY($1::uuid[]) AND t.run_id = ANY($2::uuid[])
  AND t.tenant_id = f.tenant_id AND t.run_id = f.run_id AND t.kind = 'on_failure'
  AND t.status = 'pending'
RETURNING t.tenant_id, t.id, t.run_id, t.task_name, t.status, t.action, t.priority, t.attempt;

-- name: run_versions
-- Workflow version and name of some runs (to find their DAG spec).
SELECT r.tenant_id, r.id, r.version_id, r.workflow_name
FROM unnest($1::uuid[], $2::uuid[]) AS x(tenant_id, id)
JOIN workflow_runs r ON r.tenant_id = x.tenant_id AND r.id = x.id
WHERE r.tenant_id = ANY($1::uuid[]) AND r.id = ANY($2::uuid[]);

-- name: version_definition
-- The stored definition of one workflow version.
SELECT definition FROM workflow_versions WHERE tenant_id = $1 AND id = $2;

-- name: write_outbox
-- Lifecycle events for plugins and alerts, in the transaction of the change they describe; one
-- flagged subscribed-only is written only if an enabled alert channel of its tenant wants it.
-- Rows written send ``kiln_outbox`` at commit: it wakes the idle outbox relay.
WITH written AS (
  INSERT INTO outbox (tenant_id, event, payload)
  SELECT e.tenant_id, e.event, e.payload::jsonb
  FROM unnest($1::uuid[], $2::text[], $3::text[], $4::bool[])
    AS e(tenant_id, event, payload, subscribed_only)
  WHERE NOT e.subscribed_only OR EXISTS (
    SELECT 1 FROM alert_channels c
    WHERE c.tenant_id = e.tenant_id AND c.enabled AND e.event = ANY(c.events))
  RETURNING 1
)
SELECT pg_notify('kiln_outbox', '') WHERE EXISTS (SELECT FROM written);

-- name: dag_release_children
-- Count down the pending parents of children that have conditions; at zero they stay pending
-- (marked for their conditions to be decided in this transaction) instead of being queued.
UPDATE task_runs t SET
  pending_parents = t.pending_parents - d.n,
  wait_reason = CASE WHEN t.pending_parents - d.n = 0 THEN 'conditions: deciding'
                     ELSE t.wait_reason END
FROM (
  SELECT tenant_id, run_id, name, count(*)::int AS n
  FROM unnest($1::uuid[], $2::uuid[], $3::text[]) AS x(tenant_id, run_id, name)
  GROUP BY 1, 2, 3
) AS d
WHERE t.tenant_id = ANY($1::uuid[]) AND t.run_id = ANY($2::uuid[])
  AND t.task_name = ANY($3::text[])  -- index lookups whatever the estimates (as results.sql)
  AND t.tenant_id = d.tenant_id AND t.run_id = d.run_id AND t.task_name = d.name
  AND t.status = 'pending'
RETURNING t.tenant_id, t.id, t.run_id, t.task_name, t.pending_parents;

-- name: dag_run_inputs
-- Input and metadata of some runs (what scope and parent expressions see).
SELECT r.tenant_id, r.id, r.input, r.metadata
FROM unnest($1::uuid[], $2::uuid[]) AS x(tenant_id, id)
JOIN workflow_runs r ON r.tenant_id = x.tenant_id AND r.id = x.id
WHERE r.tenant_id = ANY($1::uuid[]) AND r.id = ANY($2::uuid[]);

-- name: dag_parent_states
-- Status and output of finished parents (succeeded or skipped) by run and task name.
SELECT t.tenant_id, t.run_id, t.task_name, t.status, t.output
FROM unnest($1::uuid[], $2::uuid[], $3::text[]) AS x(tenant_id, run_id, name)
JOIN task_runs t ON t.tenant_id = x.tenant_id AND t.run_id = x.run_id AND t.task_name = x.name
WHERE t.tenant_id = ANY($1::uuid[]) AND t.run_id = ANY($2::uuid[])
  AND t.task_name = ANY($3::text[]) AND t.status IN ('succeeded', 'skipped');

-- name: dag_open_waits
-- Open (or, after a replay, reopen) ready tasks' conditions as their wait rows at seq 0.
INSERT INTO durable_waits (tenant_id, task_run_id, seq, run_id, kind, name, mode, conditions,
  matched, opened_at)
SELECT w.tenant_id, w.task_run_id, 0, w.run_id, 'wait', 'conditions', 'dag',
  w.conditions::jsonb, w.matched::jsonb, $6
FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::text[])
  AS w(tenant_id, task_run_id, run_id, conditions, matched)
ON CONFLICT (tenant_id, task_run_id, seq) DO UPDATE SET conditions = excluded.conditions,
  matched = excluded.matched, opened_at = excluded.opened_at, registered_at = now(),
  event_keys = '{}', wake_at = NULL, satisfied_at = NULL, result = NULL;

-- name: dag_save_waits
-- Save what condition waits matched, their next timer and open keys; decided when result is set.
UPDATE durable_waits d SET matched = w.matched::jsonb,
  event_keys = ARRAY(SELECT jsonb_array_elements_text(w.event_keys::jsonb)),
  wake_at = w.wake_at, result = w.result::jsonb,
  satisfied_at = CASE WHEN w.result IS NOT NULL THEN now() END
FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::timestamptz[], $6::text[])
  AS w(tenant_id, task_run_id, matched, event_keys, wake_at, result)
WHERE d.tenant_id = ANY($1::uuid[]) AND d.task_run_id = ANY($2::uuid[])
  AND d.tenant_id = w.tenant_id AND d.task_run_id = w.task_run_id AND d.seq = 0;

-- name: dag_decide
-- Apply what a task's conditions decided ($4: queued, skipped, cancelled, failed, or pending
-- while it waits, with $5 the reason). Only a task still in the state it was decided in moves:
-- a cancelled run's task stays cancelled.
UPDATE task_runs t SET
  status = x.status,
  wait_reason = CASE WHEN x.status = 'pending' THEN x.reason END,
  error = CASE WHEN x.status IN ('cancelled', 'failed') THEN x.reason END,
  finished_at = CASE WHEN x.status IN ('skipped', 'cancelled', 'failed') THEN now() END,
  queued_at = CASE WHEN x.status = 'queued' THEN now() END,
  schedule_deadline_at = CASE WHEN x.status = 'queued'
    THEN now() + make_interval(secs => t.schedule_timeout) END
FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[])
  AS x(tenant_id, id, expected, status, reason)
WHERE t.tenant_id = ANY($1::uuid[]) AND t.id = ANY($2::uuid[])
  AND t.tenant_id = x.tenant_id AND t.id = x.id AND t.status = x.expected
  AND (t.status = 'queued' OR t.wait_reason LIKE 'conditions%')
RETURNING t.tenant_id, t.id, t.run_id, t.task_name, t.status, t.action, t.priority, t.attempt,
  t.error;

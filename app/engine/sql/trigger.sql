-- name: latest_version
-- The current version of a workflow by name (tenant from RLS and $1).
SELECT w.id AS workflow_id, v.id AS version_id, v.version, v.definition
FROM workflows w
JOIN workflow_versions v ON v.tenant_id = w.tenant_id AND v.workflow_id = w.id
  AND v.version = w.latest_version
WHERE w.tenant_id = $1 AND w.name = $2;

-- name: insert_runs
-- Insert many runs of one workflow version; idempotency/child-key conflicts are skipped.
INSERT INTO workflow_runs (tenant_id, id, workflow_id, version_id, workflow_name, status, input,
  metadata, priority, pending_tasks, idempotency_key, request_hash, parent_run_id,
  parent_task_run_id, child_key)
SELECT $1, r.id, $2, $3, $4, 'queued', r.input::jsonb, r.metadata::jsonb, r.priority, $5, r.ikey,
  r.rhash, r.parent_run_id, r.parent_task_run_id, r.child_key
FROM unnest($6::uuid[], $7::text[], $8::text[], $9::smallint[], $10::text[], $11::bytea[],
            $12::uuid[], $13::uuid[], $14::text[])
  AS r(id, input, metadata, priority, ikey, rhash, parent_run_id, parent_task_run_id, child_key)
ON CONFLICT DO NOTHING
RETURNING id;

-- name: insert_tasks
-- Insert the task rows of new runs: roots queued, the others pending (on parents, or on failure).
INSERT INTO task_runs (tenant_id, id, run_id, task_name, action, status, max_attempts,
  pending_parents, priority, execution_timeout, backoff_factor, backoff_max, is_leaf, kind,
  schedule_timeout, queued_at, schedule_deadline_at)
SELECT $1, t.id, t.run_id, t.name, t.action,
  CASE WHEN t.parents = 0 AND t.kind = 'task' THEN 'queued' ELSE 'pending' END,
  t.max_attempts, t.parents, t.priority, t.timeout, t.backoff_factor, t.backoff_max, t.is_leaf,
  t.kind, t.schedule_timeout,
  CASE WHEN t.parents = 0 AND t.kind = 'task' THEN now() END,
  CASE WHEN t.parents = 0 AND t.kind = 'task'
    THEN now() + make_interval(secs => t.schedule_timeout) END
FROM unnest($2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::int[], $7::int[], $8::smallint[],
            $9::real[], $10::real[], $11::real[], $12::bool[], $13::text[], $14::real[])
  AS t(id, run_id, name, action, max_attempts, parents, priority, timeout, backoff_factor,
       backoff_max, is_leaf, kind, schedule_timeout);

-- name: enqueue
-- Make tasks claimable: one narrow queue row each (tenant per row: engine loops span tenants).
INSERT INTO queue_items (tenant_id, action, priority, task_run_id)
SELECT q.tenant_id, q.action, q.priority, q.id
FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::smallint[]) AS q(tenant_id, id, action, priority);

-- name: existing_runs_by_key
-- Runs already holding some idempotency keys (an idempotent repeat, or a conflicting body).
SELECT id, idempotency_key, request_hash, status
FROM workflow_runs
WHERE tenant_id = $1 AND idempotency_key = ANY($2::text[]);

-- name: existing_child_runs
-- Child runs already spawned by a parent task under some keys (a retried parent re-spawning).
SELECT id, child_key
FROM workflow_runs
WHERE tenant_id = $1 AND parent_task_run_id = $2 AND child_key = ANY($3::text[]);

-- name: notify_queue
-- Wake parked long-polls of a tenant (delivered at commit, to every server process).
SELECT pg_notify('kiln_queue', $1::text);

-- name: spawning_task
-- The running task that spawns children, fenced on its lease; with its run's metadata.
SELECT t.run_id, r.metadata, r.priority
FROM task_runs t JOIN workflow_runs r ON r.tenant_id = t.tenant_id AND r.id = t.run_id
WHERE t.tenant_id = $1 AND t.id = $2 AND t.lease_id = $3 AND t.status = 'running';

-- name: notify_changes
-- Tell every server process which runs of a tenant changed (the dashboard's live stream).
SELECT pg_notify('kiln_changes', $1::text);

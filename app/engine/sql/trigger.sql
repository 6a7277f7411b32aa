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
  schedule_timeout, queued_at, schedule_deadline_at, flow)
SELECT $1, t.id, t.run_id, t.name, t.action,
  CASE WHEN t.parents = 0 AND t.kind = 'task' THEN 'queued' ELSE 'pending' END,
  t.max_attempts, t.parents, t.priority, t.timeout, t.backoff_factor, t.backoff_max, t.is_leaf,
  t.kind, t.schedule_timeout,
  CASE WHEN t.parents = 0 AND t.kind = 'task' THEN now() END,
  CASE WHEN t.parents = 0 AND t.kind = 'task'
    THEN now() + make_interval(secs => t.schedule_timeout) END,
  t.flow::jsonb
FROM unnest($2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::int[], $7::int[], $8::smallint[],
            $9::real[], $10::real[], $11::real[], $12::bool[], $13::text[], $14::real[],
            $15::text[])
  AS t(id, run_id, name, action, max_attempts, parents, priority, timeout, backoff_factor,
       backoff_max, is_leaf, kind, schedule_timeout, flow);

-- name: enqueue
-- Make tasks claimable (tenant per row: engine loops span tenants): a plain task gets a narrow
-- queue_items row, a flow-controlled one (its task row carries flow data) a flow_queue row.
-- rank = now + 300 s per priority level below 3: the aging rule of docs/flow-control.md; a
-- plain task queued for its first attempt (a DAG child) ages from just before its run's
-- creation instead, so the tasks of started runs go before the roots of runs created with or
-- after theirs (a bulk trigger creates many in one instant) and runs finish in order.
WITH items AS (
  SELECT q.tenant_id, q.id, q.action, q.priority, t.run_id, t.flow, t.attempt,
    (SELECT r.created_at FROM workflow_runs r
     WHERE r.tenant_id = t.tenant_id AND r.id = t.run_id) AS run_created_at
  FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::smallint[]) AS q(tenant_id, id, action, priority)
  JOIN task_runs t ON t.tenant_id = q.tenant_id AND t.id = q.id
  WHERE t.tenant_id = ANY($1::uuid[]) AND t.id = ANY($2::uuid[])  -- index lookups (results.sql)
), flow AS (
  -- A run already holding its slot re-queues tasks out of its run-level round-robin group, so
  -- they never wait behind runs that are still waiting for that slot (app/engine/flow/keys.py).
  INSERT INTO flow_queue (tenant_id, action, group_key, rank, task_run_id, run_id, flow)
  SELECT i.tenant_id, i.action,
    CASE WHEN i.flow ? 'gr' AND (SELECT r.status FROM workflow_runs r
                                 WHERE r.tenant_id = i.tenant_id AND r.id = i.run_id) = 'queued'
      THEN i.flow->>'gr' ELSE coalesce(i.flow->>'gt', '') END,
    now() + make_interval(secs => (3 - i.priority) * 300), i.id, i.run_id, i.flow
  FROM items i WHERE i.flow IS NOT NULL
)
INSERT INTO queue_items (tenant_id, action, priority, task_run_id, rank)
SELECT i.tenant_id, i.action, i.priority, i.id,
  CASE WHEN i.attempt = 0 THEN least(now(), i.run_created_at) - interval '1 millisecond'
    ELSE now() END + make_interval(secs => (3 - i.priority) * 300)
FROM items i WHERE i.flow IS NULL;

-- name: enqueue_roots
-- Queue the plain root tasks of new runs (no join: the trigger knows they carry no flow data).
INSERT INTO queue_items (tenant_id, action, priority, task_run_id, rank)
SELECT $1, q.action, q.priority, q.id, now() + make_interval(secs => (3 - q.priority) * 300)
FROM unnest($2::uuid[], $3::text[], $4::smallint[]) AS q(id, action, priority);

-- name: enqueue_flow_roots
-- Queue the flow-controlled root tasks of new runs in their round-robin group.
INSERT INTO flow_queue (tenant_id, action, group_key, rank, task_run_id, run_id, flow)
SELECT $1, q.action, q.group_key, now() + make_interval(secs => (3 - q.priority) * 300),
  q.id, q.run_id, q.flow::jsonb
FROM unnest($2::uuid[], $3::uuid[], $4::text[], $5::smallint[], $6::text[], $7::text[])
  AS q(id, run_id, action, priority, group_key, flow);

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

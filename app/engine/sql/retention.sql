-- name: expired_runs
-- Finished runs past their tenant's retention period, oldest first (a batch, locked).
SELECT r.tenant_id, r.id
FROM workflow_runs r JOIN tenants t ON t.id = r.tenant_id
WHERE r.finished_at IS NOT NULL
  AND r.finished_at < now() - t.run_retention_days * interval '1 day'
ORDER BY r.finished_at
LIMIT $1
FOR UPDATE OF r SKIP LOCKED;

-- name: delete_run_logs
-- Log lines of the tasks of some runs (task_logs has no foreign key, for cheap appends).
DELETE FROM task_logs l
USING unnest($1::uuid[], $2::uuid[]) AS x(tenant_id, run_id), task_runs t
WHERE t.tenant_id = x.tenant_id AND t.run_id = x.run_id
  AND l.tenant_id = t.tenant_id AND l.task_run_id = t.id;

-- name: delete_runs
-- Remove runs; their tasks and attempts go with them (ON DELETE CASCADE).
DELETE FROM workflow_runs w
USING unnest($1::uuid[], $2::uuid[]) AS x(tenant_id, id)
WHERE w.tenant_id = x.tenant_id AND w.id = x.id;

-- name: run_tree
-- Runs and all their descendant child runs (cancelling a parent cancels its children).
WITH RECURSIVE tree AS (
  SELECT id FROM workflow_runs WHERE tenant_id = $1 AND id = ANY($2::uuid[])
  UNION
  SELECT r.id FROM workflow_runs r JOIN tree ON r.parent_run_id = tree.id
  WHERE r.tenant_id = $1
)
SELECT id FROM tree;

-- name: cancel_run_tasks
-- Cancel every unfinished task of some runs; running ones lose their lease (late results fenced).
WITH old AS (
  SELECT id, status FROM task_runs
  WHERE tenant_id = $1 AND run_id = ANY($2::uuid[]) AND status IN ('pending', 'queued', 'running')
  FOR UPDATE
)
UPDATE task_runs t SET status = 'cancelled', finished_at = now(), error = $3,
  lease_expires_at = NULL, deadline_at = NULL, retry_at = NULL, wait_reason = NULL,
  schedule_deadline_at = NULL
FROM old
WHERE t.tenant_id = $1 AND t.id = old.id
RETURNING t.tenant_id, t.id, t.run_id, t.task_name, t.status, t.action, t.priority, t.attempt,
  t.worker_id, t.started_at, t.error, old.status AS was;

-- name: dequeue
-- Remove the queue rows of tasks that will never be claimed (found through the claim index).
-- Rows a claimer holds are skipped, not waited for: that claimer deletes them itself and then
-- finds the task no longer queued. (Waiting would invert the claim's lock order: deadlock.)
DELETE FROM queue_items
WHERE (tenant_id, id) IN (
  SELECT q.tenant_id, q.id FROM queue_items q
  JOIN unnest($2::text[], $3::uuid[]) AS x(action, id)
    ON q.tenant_id = $1 AND q.action = x.action AND q.task_run_id = x.id
  FOR UPDATE OF q SKIP LOCKED);

-- name: lock_run
-- A run's status and version, locked against concurrent replays or cancels.
SELECT id, status, version_id, workflow_name FROM workflow_runs
WHERE tenant_id = $1 AND id = $2
FOR UPDATE;

-- name: run_task_states
-- Name, status and attempt of each task of a run.
SELECT task_name, status, attempt FROM task_runs WHERE tenant_id = $1 AND run_id = $2;

-- name: reset_tasks
-- Replay: put tasks back to pending/queued as fresh attempts with a fresh retry budget. A
-- succeeded attempt had no history row (finish_tasks: the task row was it); it gets one now,
-- before the row forgets it.
WITH kept AS (
  INSERT INTO task_attempts (tenant_id, task_run_id, attempt, run_id, worker_id, status,
    started_at, finished_at)
  SELECT t.tenant_id, t.id, t.attempt, t.run_id, t.worker_id, 'succeeded', t.started_at,
    t.finished_at
  FROM task_runs t
  WHERE t.tenant_id = $1 AND t.run_id = $2 AND t.task_name = ANY($3::text[])
    AND t.status = 'succeeded'
  ON CONFLICT DO NOTHING
)
UPDATE task_runs t SET
  status = x.status, pending_parents = x.pending_parents,
  max_attempts = t.attempt + x.max_attempts, rescues = 0, releases = 0,
  output = NULL, error = NULL, finished_at = NULL, retry_at = NULL, wait_reason = NULL,
  lease_expires_at = NULL, deadline_at = NULL,
  queued_at = CASE WHEN x.status = 'queued' THEN now() END,
  schedule_deadline_at = CASE WHEN x.status = 'queued'
    THEN now() + make_interval(secs => t.schedule_timeout) END
FROM unnest($3::text[], $4::text[], $5::int[], $6::int[])
  AS x(name, status, pending_parents, max_attempts)
WHERE t.tenant_id = $1 AND t.run_id = $2 AND t.task_name = x.name
RETURNING t.tenant_id, t.id, t.action, t.priority, t.status, t.task_name;

-- name: reopen_run
-- Replay: the run is queued again with this many tasks to finish.
UPDATE workflow_runs SET status = 'queued', pending_tasks = $3, output = NULL, error = NULL,
  finished_at = NULL
WHERE tenant_id = $1 AND id = $2;

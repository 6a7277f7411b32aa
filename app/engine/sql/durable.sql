-- name: durable_fence
-- Lock a running durable task under its lease (zero rows: the lease is no longer current).
SELECT id, run_id, now() AS now FROM task_runs
WHERE tenant_id = $1 AND id = $2 AND lease_id = $3 AND status = 'running'
FOR UPDATE;

-- name: durable_entry
-- One entry of a task run's durable log.
SELECT seq, kind, name, result FROM durable_log
WHERE tenant_id = $1 AND task_run_id = $2 AND seq = $3;

-- name: durable_record
-- Append entries to durable logs (one per seq: a repeated write keeps the first).
INSERT INTO durable_log (tenant_id, task_run_id, seq, kind, name, result)
SELECT e.tenant_id, e.task_run_id, e.seq, e.kind, e.name, e.result::jsonb
FROM unnest($1::uuid[], $2::uuid[], $3::int[], $4::text[], $5::text[], $6::text[])
  AS e(tenant_id, task_run_id, seq, kind, name, result)
ON CONFLICT DO NOTHING;

-- name: durable_logs_for
-- The durable logs of some task runs, in call order (what a resumed attempt replays; not the
-- seq 0 `restart` marker a replay leaves).
SELECT task_run_id, seq, kind, name, result FROM durable_log
WHERE tenant_id = $1 AND task_run_id = ANY($2::uuid[]) AND seq > 0
ORDER BY task_run_id, seq;

-- name: durable_window
-- When a wait at seq $3 opens: the previous durable checkpoint, else the task's first start.
SELECT coalesce(
  (SELECT max(created_at) FROM durable_log
   WHERE tenant_id = $1 AND task_run_id = $2 AND seq < $3),
  (SELECT least(t.started_at, (SELECT min(a.started_at) FROM task_attempts a
                               WHERE a.tenant_id = $1 AND a.task_run_id = $2))
   FROM task_runs t WHERE t.tenant_id = $1 AND t.id = $2));

-- name: durable_lock_keys
-- Order event ingest and wait registration on the same (tenant, event key): no lost wake-ups.
SELECT count(pg_advisory_xact_lock(hashtextextended($1::text || ':' || s.key, 7)))
FROM (SELECT DISTINCT k AS key FROM unnest($2::text[]) AS k ORDER BY 1) AS s;

-- name: durable_wait_at
-- A task run's wait at one seq, locked.
SELECT * FROM durable_waits WHERE tenant_id = $1 AND task_run_id = $2 AND seq = $3
FOR UPDATE;

-- name: durable_insert_wait
-- Register a wait (its timers and event keys are set by durable_update_wait).
INSERT INTO durable_waits (tenant_id, task_run_id, seq, run_id, kind, name, mode, conditions,
  matched, opened_at, timeout_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9::jsonb, $10, $11)
RETURNING *;

-- name: durable_update_wait
-- Save what a wait has matched, its next timer and open keys; satisfied when $7 is set.
UPDATE durable_waits SET matched = $4::jsonb, event_keys = $5::text[], wake_at = $6,
  satisfied_at = CASE WHEN $7::jsonb IS NOT NULL THEN now() END, result = $7::jsonb
WHERE tenant_id = $1 AND task_run_id = $2 AND seq = $3;

-- name: durable_events_since
-- Events of some keys stored after a wait opened (the ones that arrived before it registered).
SELECT id, key, payload, metadata, created_at FROM events
WHERE tenant_id = $1 AND key = ANY($2::text[]) AND created_at > $3
ORDER BY created_at, id
LIMIT 1000;

-- name: durable_open_waits_for_keys
-- Open waits of a tenant on any of some event keys, locked (event ingest).
SELECT * FROM durable_waits
WHERE tenant_id = $1 AND satisfied_at IS NULL AND event_keys && $2::text[]
ORDER BY task_run_id, seq
FOR UPDATE;

-- name: durable_due_waits
-- Open waits whose timer (a sleep or the timeout) is due, across tenants.
SELECT * FROM durable_waits
WHERE satisfied_at IS NULL AND wake_at <= now()
ORDER BY wake_at
LIMIT $1
FOR UPDATE SKIP LOCKED;

-- name: durable_suspend
-- Hand a running durable task back while it waits: pending, no lease, no attempt used up.
UPDATE task_runs SET status = 'pending', releases = releases + 1, wait_reason = $4,
  lease_expires_at = NULL, deadline_at = NULL, schedule_deadline_at = NULL
WHERE tenant_id = $1 AND id = $2 AND lease_id = $3 AND status = 'running'
RETURNING tenant_id, id, run_id, attempt, worker_id, started_at;

-- name: durable_resume
-- Queue suspended durable tasks whose wait is satisfied (a cancelled one stays cancelled).
UPDATE task_runs t SET status = 'queued', queued_at = now(), wait_reason = NULL,
  schedule_deadline_at = now() + make_interval(secs => t.schedule_timeout)
FROM unnest($1::uuid[], $2::uuid[]) AS x(tenant_id, id)
WHERE t.tenant_id = x.tenant_id AND t.id = x.id AND t.status = 'pending'
  AND t.wait_reason LIKE 'durable %'
RETURNING t.tenant_id, t.id, t.run_id, t.action, t.priority;

-- name: durable_now
-- The transaction's time (what an event stored in it gets as created_at).
SELECT now();

-- name: durable_forget
-- Replay: drop the durable logs and waits (not DAG conditions) of tasks that start over.
WITH waits AS (
  DELETE FROM durable_waits
  WHERE tenant_id = $1 AND task_run_id = ANY($2::uuid[]) AND mode <> 'dag'
  RETURNING task_run_id
), log AS (
  DELETE FROM durable_log WHERE tenant_id = $1 AND task_run_id = ANY($2::uuid[])
  RETURNING task_run_id
)
SELECT task_run_id FROM waits UNION SELECT task_run_id FROM log;

-- name: durable_mark_restart
-- Replay: a `restart` entry at seq 0 whose time opens the event window of the first wait.
INSERT INTO durable_log (tenant_id, task_run_id, seq, kind, name, result)
SELECT $1, t.id, 0, 'restart', 'replay', NULL FROM unnest($2::uuid[]) AS t(id);

-- name: notify_sweeps
-- Wake the quiet sweepers of every replica: a durable timer is due soon (dispatcher.SWEEPS_HORIZON).
SELECT pg_notify('kiln_sweeps', '');

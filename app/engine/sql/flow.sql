-- name: flow_candidates
-- Ready flow-controlled tasks: per action, up to $4 round-robin groups from each action's rotation
-- cursor $3 on, wrapping around to the first group (a skip scan over the index), and of each
-- group its first tasks in rank order: about twice the claim's $6 tasks spread over the groups,
-- at least 2 and at most $5 per group.
SELECT a.action, g.turn, q.id, q.group_key, q.rank, q.task_run_id, q.run_id, q.flow,
  extract(epoch FROM now() - q.enqueued_at)::float8 AS waited,
  t.status AS task_status, t.task_name, r.version_id, r.sticky_worker_id
FROM unnest($2::text[], $3::text[]) AS a(action, after)
CROSS JOIN LATERAL (
  WITH RECURSIVE groups(key, turn, wrapped) AS (
    SELECT coalesce(first.key, CASE WHEN a.after <> '' THEN (
             SELECT min(f.group_key) FROM flow_queue f
             WHERE f.tenant_id = $1 AND f.action = a.action AND f.group_key >= '') END),
           1, first.key IS NULL
    FROM (SELECT min(f.group_key) AS key FROM flow_queue f
          WHERE f.tenant_id = $1 AND f.action = a.action AND f.group_key >= a.after) AS first
    UNION ALL
    SELECT coalesce(next.key, CASE WHEN NOT g.wrapped AND a.after <> '' THEN (
             SELECT min(f.group_key) FROM flow_queue f
             WHERE f.tenant_id = $1 AND f.action = a.action AND f.group_key >= '') END),
           g.turn + 1, g.wrapped OR next.key IS NULL
    FROM groups g
    CROSS JOIN LATERAL (SELECT min(f.group_key) AS key FROM flow_queue f
                        WHERE f.tenant_id = $1 AND f.action = a.action
                          AND f.group_key > g.key) AS next
    WHERE g.key IS NOT NULL AND g.turn < $4 AND NOT (g.wrapped AND g.key >= a.after)
  )
  -- Past the end, the rotation continues from the first group up to where it started.
  SELECT key, turn, count(*) OVER () AS groups FROM groups
  WHERE key IS NOT NULL AND NOT (wrapped AND turn > 1 AND key >= a.after)
) AS g
CROSS JOIN LATERAL (
  SELECT f.id, f.group_key, f.rank, f.task_run_id, f.run_id, f.flow, f.enqueued_at
  FROM flow_queue f
  WHERE f.tenant_id = $1 AND f.action = a.action AND f.group_key = g.key
  ORDER BY f.rank, f.id
  LIMIT least($5, greatest(2, ceil(2.0 * $6 / g.groups)::int))
) AS q
JOIN task_runs t ON t.tenant_id = $1 AND t.id = q.task_run_id
JOIN workflow_runs r ON r.tenant_id = $1 AND r.id = q.run_id;

-- name: flow_commit
-- Take the chosen flow queue rows (skipping those another claimer took) and drop dead ones, lease
-- the chosen tasks to the worker (the plain claim's columns), record their concurrency holds and
-- forget the stale holds found while deciding — one statement.
WITH stale AS (
  DELETE FROM concurrency_holds h
  USING unnest($6::text[], $7::uuid[]) AS x(key, holder_id)
  WHERE h.tenant_id = $1 AND h.key = x.key AND h.holder_id = x.holder_id
), taken AS (
  DELETE FROM flow_queue d
  WHERE d.tenant_id = $1 AND d.id IN (
    SELECT f.id FROM flow_queue f WHERE f.tenant_id = $1 AND f.id = ANY($2::bigint[])
    FOR UPDATE SKIP LOCKED)
  RETURNING d.task_run_id
), leased AS (
  UPDATE task_runs t
  SET status = 'running', attempt = t.attempt + 1, worker_id = $3, lease_id = gen_random_uuid(),
      lease_expires_at = now() + make_interval(secs => $4), started_at = now(),
      deadline_at = now() + make_interval(secs => t.execution_timeout), retry_at = NULL,
      wait_reason = NULL, schedule_deadline_at = NULL
  FROM taken
  WHERE t.tenant_id = $1 AND t.id = taken.task_run_id AND t.id = ANY($5::uuid[])
    AND t.status = 'queued'
  RETURNING t.id, t.run_id, t.task_name, t.action, t.attempt, t.lease_id, t.execution_timeout,
    t.kind
), held AS (
  INSERT INTO concurrency_holds (tenant_id, key, holder_id, run_id, scope, strategy)
  SELECT $1, h.key, h.holder_id, h.run_id, h.scope, h.strategy
  FROM unnest($8::uuid[], $9::text[], $10::uuid[], $11::uuid[], $12::text[], $13::text[])
    AS h(task_run_id, key, holder_id, run_id, scope, strategy)
  JOIN leased l ON l.id = h.task_run_id
  ON CONFLICT (tenant_id, key, holder_id) DO NOTHING
)
SELECT * FROM leased;

-- name: flow_dequeue_runs
-- Remove the flow queue rows of some runs (cancelled). A row a claimer holds is being taken (its
-- lease will find the task cancelled): skipped, since waiting for it could deadlock.
DELETE FROM flow_queue d
WHERE d.tenant_id = $1 AND d.id IN (
  SELECT f.id FROM flow_queue f WHERE f.tenant_id = $1 AND f.run_id = ANY($2::uuid[])
  FOR UPDATE SKIP LOCKED);

-- name: flow_wait
-- Say what queued tasks wait for; only changed reasons are written (and returned). Rows another
-- transaction holds (a claimer leasing them, a cancel) are skipped: waiting on them could deadlock.
WITH waiting AS (
  SELECT t.id, x.reason FROM task_runs t
  JOIN unnest($2::uuid[], $3::text[]) AS x(id, reason) ON t.id = x.id
  WHERE t.tenant_id = $1 AND t.status = 'queued' AND t.wait_reason IS DISTINCT FROM x.reason
  FOR UPDATE OF t SKIP LOCKED
)
UPDATE task_runs t SET wait_reason = w.reason
FROM waiting w
WHERE t.tenant_id = $1 AND t.id = w.id
RETURNING t.id, t.run_id, t.task_name;

-- name: set_sticky
-- Remember the worker that ran the first task of sticky runs.
UPDATE workflow_runs SET sticky_worker_id = $3
WHERE tenant_id = $1 AND id = ANY($2::uuid[]) AND sticky_worker_id IS NULL;

-- name: active_workers
-- The tenant's live workers with their labels and actions (label preferences, sticky runs).
SELECT id, labels, actions FROM workers WHERE tenant_id = $1 AND status = 'active';

-- name: lock_concurrency_keys
-- Serialise decisions on concurrency keys (transaction advisory locks, taken in key order).
SELECT count(pg_advisory_xact_lock(hashtextextended('kiln.concurrency:' || $1::text || ':' || k, 0)))
FROM unnest($2::text[]) AS k;

-- name: concurrency_holds
-- Holds of some keys, oldest first, and whether each still counts (its holder is unfinished).
SELECT h.key, h.holder_id, h.run_id, h.scope,
  CASE WHEN h.scope = 'task' THEN coalesce(t.status = 'running', false)
       WHEN h.strategy = 'GROUP_ROUND_ROBIN' THEN coalesce(r.status = 'running', false)
       ELSE coalesce(r.status IN ('queued', 'running'), false) END AS valid
FROM concurrency_holds h
LEFT JOIN task_runs t ON h.scope = 'task' AND t.tenant_id = h.tenant_id AND t.id = h.holder_id
LEFT JOIN workflow_runs r ON r.tenant_id = h.tenant_id AND r.id = h.run_id
WHERE h.tenant_id = $1 AND h.key = ANY($2::text[])
ORDER BY h.key, h.acquired_at, h.holder_id;

-- name: add_holds
-- Record new holders of concurrency slots.
INSERT INTO concurrency_holds (tenant_id, key, holder_id, run_id, scope, strategy)
SELECT $1, x.key, x.holder_id, x.run_id, x.scope, x.strategy
FROM unnest($2::text[], $3::uuid[], $4::uuid[], $5::text[], $6::text[])
  AS x(key, holder_id, run_id, scope, strategy)
ON CONFLICT (tenant_id, key, holder_id) DO UPDATE SET acquired_at = now();

-- name: cancel_reason
-- Say why runs were cancelled by a concurrency strategy (on the run and its cancelled tasks).
WITH runs AS (
  UPDATE workflow_runs w SET error = x.reason
  FROM unnest($2::uuid[], $3::text[]) AS x(id, reason)
  WHERE w.tenant_id = $1 AND w.id = x.id AND w.status = 'cancelled'
  RETURNING w.id, x.reason
)
UPDATE task_runs t SET error = runs.reason
FROM runs
WHERE t.tenant_id = $1 AND t.run_id = runs.id AND t.status = 'cancelled';

-- name: rate_limit_defaults
-- Create or refresh the rows of rate limits whose limit comes with the task definition.
INSERT INTO rate_limits (tenant_id, key, source, "limit", window_seconds)
SELECT $1, x.key, 'dynamic', x.lim, x.win
FROM unnest($2::text[], $3::int[], $4::real[]) AS x(key, lim, win)
ON CONFLICT (tenant_id, key) DO UPDATE
  SET "limit" = excluded."limit", window_seconds = excluded.window_seconds, updated_at = now()
  WHERE rate_limits.source = 'dynamic'
    AND (rate_limits."limit", rate_limits.window_seconds)
        IS DISTINCT FROM (excluded."limit", excluded.window_seconds);

-- name: lock_rate_limits
-- The rows of some rate limits, locked in key order, with their strategy and the clock of the
-- claim (the transaction start, the same clock as the tasks' started_at).
SELECT r.key, r.source, r."limit", r.window_seconds,
  coalesce(r.strategy, s.default_strategy, 'fixed-window') AS strategy, r.config, r.state,
  extract(epoch FROM now())::float8 AS now
FROM rate_limits r
LEFT JOIN rate_limit_settings s ON s.tenant_id = r.tenant_id
WHERE r.tenant_id = $1 AND r.key = ANY($2::text[])
ORDER BY r.key
FOR UPDATE OF r;

-- name: save_rate_limits
-- Store the new state of rate limits after a decision.
UPDATE rate_limits r SET state = x.state::jsonb, updated_at = now()
FROM unnest($2::text[], $3::text[]) AS x(key, state)
WHERE r.tenant_id = $1 AND r.key = x.key;

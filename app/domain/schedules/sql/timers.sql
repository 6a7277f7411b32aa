-- name: claim_due_crons
-- Lock a batch of due (or not yet computed) enabled crons across tenants; others skip them.
SELECT c.tenant_id, c.id, c.workflow_name, c.expression, c.timezone, c.input, c.metadata,
  c.missed, c.next_fire_at, coalesce($1::timestamptz, now()) AS now
FROM crons c
WHERE c.enabled AND (c.next_fire_at IS NULL OR c.next_fire_at <= coalesce($1::timestamptz, now()))
ORDER BY c.next_fire_at NULLS FIRST
LIMIT $2
FOR UPDATE SKIP LOCKED;

-- name: cron_fired
-- Record a tick (run or error) and move the cron to its next due time.
UPDATE crons SET next_fire_at = $3, last_fired_at = coalesce($4, last_fired_at),
  last_run_id = coalesce($5, last_run_id), last_error = $6,
  fire_count = fire_count + CASE WHEN $5::uuid IS NULL THEN 0 ELSE 1 END, updated_at = now()
WHERE tenant_id = $1 AND id = $2;

-- name: cron_broken
-- Disable a cron whose expression or time zone can no longer be computed.
UPDATE crons SET enabled = false, last_error = $3, updated_at = now()
WHERE tenant_id = $1 AND id = $2;

-- name: claim_due_schedules
-- Lock a batch of due pending schedules across tenants; others skip them.
SELECT s.tenant_id, s.id, s.workflow_name, s.input, s.metadata, s.fire_at,
  coalesce($1::timestamptz, now()) AS now
FROM schedules s
WHERE s.status = 'pending' AND s.fire_at <= coalesce($1::timestamptz, now())
ORDER BY s.fire_at
LIMIT $2
FOR UPDATE SKIP LOCKED;

-- name: schedule_fired
-- Mark a schedule fired (with its run) or failed (with the error).
UPDATE schedules SET status = CASE WHEN $3::uuid IS NULL THEN 'failed' ELSE 'fired' END,
  run_id = $3, error = $4, fired_at = $5, updated_at = now()
WHERE tenant_id = $1 AND id = $2;

-- name: next_schedule_in
-- Seconds until the first pending schedule is due (negative: due; NULL: none), from schedules_due.
SELECT extract(epoch FROM min(fire_at) - now())::float8 FROM schedules WHERE status = 'pending';

-- name: next_cron_in
-- Seconds until the first enabled cron is due (negative: due; NULL: none), from crons_due.
SELECT extract(epoch FROM min(next_fire_at) - now())::float8 FROM crons WHERE enabled;


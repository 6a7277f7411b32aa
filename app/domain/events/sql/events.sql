-- name: subscriptions_for_keys
-- Subscriptions events with these keys may match: exact ones by key, then every wildcard one.
SELECT w.name AS workflow, s.pattern, s.filter
FROM event_subscriptions s
JOIN workflows w ON w.tenant_id = s.tenant_id AND w.id = s.workflow_id
WHERE s.tenant_id = $1 AND NOT s.wildcard AND s.pattern = ANY($2::text[])
UNION ALL
SELECT w.name AS workflow, s.pattern, s.filter
FROM event_subscriptions s
JOIN workflows w ON w.tenant_id = s.tenant_id AND w.id = s.workflow_id
WHERE s.tenant_id = $1 AND s.wildcard
ORDER BY workflow, pattern;

-- name: insert_events
-- Store many events with the runs each started ($8: '{id,…}' texts, one per event).
INSERT INTO events (tenant_id, id, key, payload, metadata, source, webhook_id, run_ids)
SELECT $1, e.id, e.key, e.payload::jsonb, e.metadata::jsonb, $2, $3, e.run_ids::uuid[]
FROM unnest($4::uuid[], $5::text[], $6::text[], $7::text[], $8::text[])
  AS e(id, key, payload, metadata, run_ids);

-- name: resolve_webhook
-- The tenant of a webhook id, before any tenant is known (SECURITY DEFINER lookup).
SELECT tenant_id FROM kiln_private.resolve_webhook($1);

-- name: webhook_for_receipt
-- What the receiver needs of one webhook (as its tenant), with the database's clock.
SELECT id, name, event_key, key_expression, verifier, config, enabled, secret, previous_secret,
  previous_secret_expires_at > now() AS previous_valid, extract(epoch FROM now()) AS now
FROM webhooks WHERE tenant_id = $1 AND id = $2;

-- name: delivery_seen
-- Whether a delivery id was already accepted by this webhook (replay check).
SELECT EXISTS (SELECT 1 FROM webhook_deliveries
               WHERE tenant_id = $1 AND webhook_id = $2 AND delivery_id = $3);

-- name: insert_delivery
-- Log an accepted delivery; no row back means a concurrent replay won the delivery id.
INSERT INTO webhook_deliveries (tenant_id, id, webhook_id, delivery_id, sender_delivery_id,
  event_id, event_key, run_count, body_bytes, note)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
ON CONFLICT (tenant_id, webhook_id, delivery_id) DO NOTHING
RETURNING id;

-- name: count_failure
-- Count a refused request on its webhook (the only thing a refusal writes).
UPDATE webhooks SET failed_verifications = failed_verifications + 1, last_failure_at = now(),
  last_failure_reason = $3
WHERE tenant_id = $1 AND id = $2;

-- name: prune_deliveries
-- Delete a batch of deliveries older than the retention (ends their replay protection).
DELETE FROM webhook_deliveries
WHERE ctid = ANY (ARRAY(SELECT ctid FROM webhook_deliveries
                        WHERE received_at < now() - make_interval(secs => $1)
                        ORDER BY received_at LIMIT $2));

#!/usr/bin/env bash
# Send a GitHub-style signed "push" delivery to a Kiln webhook, exactly as GitHub signs it:
# X-Hub-Signature-256 is "sha256=" + the hex HMAC-SHA256 of the raw body, keyed by the secret.
#
#   KILN_WEBHOOK_URL=http://127.0.0.1:8080/hooks/<id> KILN_WEBHOOK_SECRET=<secret> \
#     examples/webhook/send.sh
set -euo pipefail
: "${KILN_WEBHOOK_URL:?set KILN_WEBHOOK_URL to the url of the webhook}"
: "${KILN_WEBHOOK_SECRET:?set KILN_WEBHOOK_SECRET to the secret shown when it was created}"

BODY='{"ref":"refs/heads/main","after":"9f2c1e7","repository":{"full_name":"acme/shop"},"pusher":{"name":"ada"}}'
SIGNATURE="sha256=$(printf '%s' "$BODY" | openssl dgst -sha256 -hmac "$KILN_WEBHOOK_SECRET" | sed 's/^.* //')"

curl -sS -X POST "$KILN_WEBHOOK_URL" \
  -H 'Content-Type: application/json' \
  -H 'X-GitHub-Event: push' \
  -H "X-GitHub-Delivery: $(openssl rand -hex 16)" \
  -H "X-Hub-Signature-256: $SIGNATURE" \
  --data-binary "$BODY" \
  -w '\nHTTP %{http_code}\n'

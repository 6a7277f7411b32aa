"""Inbound webhooks: endpoints (``/api/v1/webhooks``) whose public URL (``POST /hooks/{id}``)
verifies each request with a verifier plugin, then turns it into an event."""

"""Alerting: channels (``/api/v1/alerts/channels``), the outbox relay and the delivery sender.

Read ``docs/alerts.md`` for the delivery rules (retries, grouping, auto-disable)."""

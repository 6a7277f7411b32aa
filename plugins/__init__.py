"""Kiln's built-in plugins, registered exactly like third-party ones (``docs/plugins.md``).

Add a built-in by appending its module to :data:`BUILTIN_PLUGINS`:

* ``plugins/alerts/`` — alert channel types (``register_alert_channels``);
* ``plugins/rate_limits/`` — rate-limit strategies (``register_rate_limit_strategies``);
* ``plugins/verifiers/`` — inbound webhook verifiers (``register_webhook_verifiers``).
"""

from __future__ import annotations

BUILTIN_PLUGINS: tuple[str, ...] = (
    "plugins.alerts.slack",
    "plugins.alerts.webhook",
    "plugins.alerts.email",
    *(f"plugins.verifiers.{name}" for name in (
        "standard_webhooks", "github", "stripe", "hmac_sha256", "api_key", "basic")),
    *(f"plugins.rate_limits.{name}" for name in (
        "fixed_window", "token_bucket", "sliding_window")),
)
"""Modules registered as plugins by ``app.hooks.manager.get_plugin_manager``, in this order."""

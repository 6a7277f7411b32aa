"""Built-in inbound webhook verifiers: one module per verifier, each implementing
``register_webhook_verifiers`` and listed in ``plugins.BUILTIN_PLUGINS``.

A verifier satisfies ``app.hooks.types.WebhookVerifier`` (``generate_secret()`` and a pure,
constant-time ``verify()``; see the hook's section in ``docs/plugins.md``)."""

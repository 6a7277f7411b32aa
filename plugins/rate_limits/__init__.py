"""Built-in rate-limit strategies: one module per strategy, each implementing
``register_rate_limit_strategies`` and listed in ``plugins.BUILTIN_PLUGINS``.

A strategy satisfies ``app.hooks.types.RateLimitStrategy`` (a pure ``decide()`` over stored
state; see the hook's section in ``docs/plugins.md``)."""

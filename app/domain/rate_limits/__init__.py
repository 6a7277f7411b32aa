"""Rate limits of a tenant: static keys set through the API, dynamic keys created on first use,
their strategy and current usage (docs/flow-control.md)."""

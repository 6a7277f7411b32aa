"""Flow control: concurrency limits, rate limits, priority, worker labels and stickiness.

Everything is decided in the database at claim time, so limits hold across workers and server
replicas (docs/flow-control.md):

* :mod:`.expressions` — CEL expressions compiled once per source, evaluated over ``input`` and
  ``metadata``.
* :mod:`.spec` — a workflow version's flow rules, compiled and validated at registration.
* :mod:`.keys` — the keys and units of a run, evaluated at trigger time and stored with its tasks.
* :mod:`.concurrency` — holds (who occupies a slot) and the ``CANCEL_*`` strategies at trigger.
* :mod:`.rate_limits` — strategies from the ``register_rate_limit_strategies`` hook, and the
  decisions over the locked state rows.
* :mod:`.labels` — desired worker labels and sticky runs.
* :mod:`.claim` — the flow lane of the claim: round-robin candidates, decisions, leases.

A task without flow rules never reaches this package: it stays on the fast claim path.
"""

"""The queue manager: the only code that runs the hot-path SQL of ``app/engine/sql``.

* :mod:`.trigger` — create runs and their tasks, queue the roots.
* :mod:`.claim` — lease ready tasks to a worker, heartbeats, logs.
* :mod:`.results` — apply results fenced on the lease, and everything a state change implies
  (children released, descendants cancelled, runs finished, outbox events).
* :mod:`.sweeps` — expired leases, execution deadlines, due retries, lost workers.
"""

"""Durable tasks (docs/durable.md): a task run's append-only progress log (:mod:`.log`) and its
waits on sleeps and events, which suspend it without holding a worker slot (:mod:`.waits`,
rules in :mod:`.conditions`). DAG conditions — wait_for/skip_if/cancel_if on any DAG task — use
the same waits (:mod:`.dag_waits`, rules in :mod:`.dag_conditions`)."""

"""Durable tasks (docs/durable.md): a task run's append-only progress log (:mod:`.log`) and its
waits on sleeps and events, which suspend it without holding a worker slot (:mod:`.waits`,
rules in :mod:`.conditions`)."""

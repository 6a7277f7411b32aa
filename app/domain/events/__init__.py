"""Events: ``POST /api/v1/events`` stores an event and, in the same transaction, starts every
workflow whose latest version subscribes to its key (``on_events``, wildcards, filters)."""

"""Which lifecycle events the engine writes to the outbox, and which hook each one calls.

The engine asks :func:`wanted` (once per manager) and writes outbox rows only for those events:
every event alert channels can subscribe to, plus any event some plugin implements the ``on_*``
hook of. ``task.succeeded`` is the most frequent event and no channel subscribes to it, so it is
written only while a plugin implements ``on_task_succeeded``.
"""

from __future__ import annotations

import pluggy

EVENT_HOOKS: dict[str, str] = {
    "run.succeeded": "on_run_succeeded",
    "run.failed": "on_run_failed",
    "run.cancelled": "on_run_cancelled",
    "task.succeeded": "on_task_succeeded",
    "task.failed": "on_task_failed",
    "task.retrying": "on_task_retrying",
    "task.cancelled": "on_task_cancelled",
    "task.timed_out": "on_task_timed_out",
    "worker.lost": "on_worker_lost",
    "rate.limited": "on_rate_limited",
}
"""Outbox event name → the ``on_*`` hook the relay broadcasts it to."""

CHANNEL_EVENTS: frozenset[str] = frozenset({
    "run.succeeded", "run.failed", "run.cancelled", "task.failed", "task.retrying",
    "task.cancelled", "task.timed_out", "worker.lost",
})
"""Events an alert channel may subscribe to."""

GROUPED_EVENTS: frozenset[str] = frozenset({
    "run.failed", "task.failed", "task.timed_out", "task.retrying",
})
"""Failure events that are grouped per workflow and channel (docs/alerts.md, "Grouping")."""


def implemented(pm: pluggy.PluginManager, hook: str) -> bool:
    caller = getattr(pm.hook, hook, None)
    return bool(caller and caller.get_hookimpls())


def wanted(pm: pluggy.PluginManager) -> frozenset[str]:
    """Event names the engine should write to the outbox for ``pm``'s plugins and channels."""
    hooked = {event for event, hook in EVENT_HOOKS.items() if implemented(pm, hook)}
    return CHANNEL_EVENTS | hooked

"""The overview's figures as the API shows them (all durations in seconds)."""

from __future__ import annotations

import datetime as dt

import msgspec


class WorkflowStats(msgspec.Struct):
    workflow: str | None
    """The workflow; ``None`` on the totals over every workflow."""
    runs: int
    """Runs created in the window."""
    succeeded: int
    failed: int
    cancelled: int
    failure_rate: float | None
    """Failed runs over finished runs (succeeded, failed or cancelled); ``None`` when none
    finished."""
    duration_p50: float | None
    """Median time from a run's start to its end, over the window's finished runs."""
    duration_p95: float | None
    queue_p50: float | None
    """Median time a task waited in the queue (queued → started), over the window's started
    tasks."""
    queue_p95: float | None


class StatusBucket(msgspec.Struct):
    at: dt.datetime
    """Start of the bucket; it lasts ``bucket_seconds``."""
    counts: dict[str, int]
    """Runs created in the bucket, per their current status (statuses with none are left out)."""


class Overview(msgspec.Struct):
    window: str
    since: dt.datetime
    until: dt.datetime
    bucket_seconds: int
    totals: WorkflowStats
    workflows: list[WorkflowStats]
    """One entry per workflow with runs in the window, busiest first."""
    buckets: list[StatusBucket]
    """Every bucket of the window, oldest first, empty ones included."""


class ConcurrencyUsage(msgspec.Struct):
    key: str
    """``<workflow>[/<task>]#<limit index>=<value>`` (docs/flow-control.md)."""
    scope: str
    """``run`` (a workflow-level limit: runs hold slots) or ``task``."""
    strategy: str
    value: str
    """What the limit's expression gave for this key."""
    max_runs: int | None
    """The key's limit, known while something waits for it."""
    running: int
    """Slots held now."""
    queued: int
    """Runs (run scope) or tasks (task scope) waiting for a slot of this key."""


class ConcurrencyUsageList(msgspec.Struct):
    items: list[ConcurrencyUsage]

"""Concurrency keys as the API shows them."""

from __future__ import annotations

import datetime as dt
import uuid

import msgspec


class Holder(msgspec.Struct):
    run_id: uuid.UUID
    task_run_id: uuid.UUID | None
    """Set for a task-level limit (the task holds the slot), None when the run does."""
    since: dt.datetime


class ConcurrencyKey(msgspec.Struct):
    key: str
    """``<workflow>[/<task>]#<limit index>=<value>``."""
    scope: str
    """``run`` (workflow-level limit) or ``task``."""
    value: str
    strategy: str
    holders: list[Holder]
    """Runs or tasks occupying a slot now (unfinished)."""


class ConcurrencyKeys(msgspec.Struct):
    items: list[ConcurrencyKey]

"""Crons and one-off schedules as the API takes and shows them."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any, Literal

import msgspec

from app.domain.workflows.schemas import Name

Expression = Annotated[str, msgspec.Meta(
    min_length=1, max_length=255,
    description="5-field cron: minute hour day-of-month month day-of-week")]
TimeZone = Annotated[str, msgspec.Meta(
    min_length=1, max_length=64, description="IANA time zone, e.g. Europe/Paris")]
Metadata = Annotated[dict[str, Any], msgspec.Meta(max_length=50)]
Missed = Literal["run_once", "skip"]
UPCOMING = 5


class CronCreate(msgspec.Struct, forbid_unknown_fields=True):
    workflow: Name
    expression: Expression
    timezone: TimeZone = "UTC"
    input: Any = msgspec.field(default_factory=dict)
    metadata: Metadata = msgspec.field(default_factory=dict)
    enabled: bool = True
    missed: Missed = "run_once"
    """After downtime: ``run_once`` coalesces the missed ticks into one run; ``skip`` drops them."""


class CronUpdate(msgspec.Struct, forbid_unknown_fields=True):
    expression: Expression | msgspec.UnsetType = msgspec.UNSET
    timezone: TimeZone | msgspec.UnsetType = msgspec.UNSET
    input: Any | msgspec.UnsetType = msgspec.UNSET
    metadata: Metadata | msgspec.UnsetType = msgspec.UNSET
    enabled: bool | msgspec.UnsetType = msgspec.UNSET
    missed: Missed | msgspec.UnsetType = msgspec.UNSET


class Cron(msgspec.Struct):
    id: uuid.UUID
    workflow: str
    source: Literal["api", "workflow"]
    """``workflow``: declared by the workflow's ``on_crons`` (only ``enabled`` can change)."""
    expression: str
    timezone: str
    input: Any
    metadata: dict[str, Any]
    enabled: bool
    missed: Missed
    next_fire_at: dt.datetime | None
    upcoming: list[dt.datetime]
    """The next few fire times (UTC), from ``next_fire_at`` on; empty while disabled."""
    last_fired_at: dt.datetime | None
    last_run_id: uuid.UUID | None
    last_error: str | None
    fire_count: int
    created_at: dt.datetime
    updated_at: dt.datetime


class ScheduleCreate(msgspec.Struct, forbid_unknown_fields=True):
    workflow: Name
    at: dt.datetime
    """When to start the run (with a UTC offset); a time in the past fires at once."""
    input: Any = msgspec.field(default_factory=dict)
    metadata: Metadata = msgspec.field(default_factory=dict)


class ScheduleUpdate(msgspec.Struct, forbid_unknown_fields=True):
    at: dt.datetime | msgspec.UnsetType = msgspec.UNSET
    input: Any | msgspec.UnsetType = msgspec.UNSET
    metadata: Metadata | msgspec.UnsetType = msgspec.UNSET


class Schedule(msgspec.Struct):
    id: uuid.UUID
    workflow: str
    at: dt.datetime
    input: Any
    metadata: dict[str, Any]
    status: Literal["pending", "fired", "failed"]
    run_id: uuid.UUID | None
    error: str | None
    fired_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime

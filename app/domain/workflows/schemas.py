"""Workflow definitions as workers register them, and how the API shows them."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import msgspec

Name = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9_.:-]{1,100}$",
                                   description="Letters, digits and _ . : - (≤ 100)")]
MAX_TASKS = 500


class TaskDefinition(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    name: Name
    parents: Annotated[list[Name], msgspec.Meta(max_length=MAX_TASKS)] = msgspec.field(
        default_factory=list
    )
    retries: Annotated[int, msgspec.Meta(ge=0, le=1000)] = 0
    backoff_factor: Annotated[float, msgspec.Meta(ge=1.0, le=10.0)] = 2.0
    backoff_max_seconds: Annotated[float, msgspec.Meta(gt=0, le=7 * 86400)] = 3600.0
    execution_timeout: Annotated[float, msgspec.Meta(gt=0, le=7 * 86400)] = 60.0
    schedule_timeout: Annotated[float, msgspec.Meta(gt=0, le=30 * 86400)] | None = None


class WorkflowDefinition(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    name: Name
    tasks: Annotated[list[TaskDefinition], msgspec.Meta(min_length=1, max_length=MAX_TASKS)]
    description: Annotated[str, msgspec.Meta(max_length=2000)] | None = None
    on_events: Annotated[list[Annotated[str, msgspec.Meta(min_length=1, max_length=255)]],
                         msgspec.Meta(max_length=100)] = msgspec.field(default_factory=list)
    on_crons: Annotated[list[Annotated[str, msgspec.Meta(min_length=1, max_length=255)]],
                        msgspec.Meta(max_length=100)] = msgspec.field(default_factory=list)
    event_filter: Annotated[str, msgspec.Meta(max_length=2000)] | None = None
    """CEL over ``payload``, ``metadata`` and ``key``: events of ``on_events`` start a run only
    when it is true (docs/triggers.md). Checked at registration."""
    on_failure: TaskDefinition | None = None
    """Runs once when the run failed, after every other task finished; gets their errors."""
    on_success: TaskDefinition | None = None
    """Runs after every leaf task succeeded (its output is not part of the run's output)."""


class Registered(msgspec.Struct):
    name: str
    version: int
    checksum: str
    created: bool


class TaskOut(msgspec.Struct):
    name: str
    parents: list[str]
    retries: int
    execution_timeout: float


class VersionOut(msgspec.Struct):
    version: int
    checksum: str
    created_at: dt.datetime


class Workflow(msgspec.Struct):
    name: str
    version: int
    checksum: str
    tasks: list[TaskOut]
    on_events: list[str]
    on_crons: list[str]
    description: str | None
    created_at: dt.datetime
    updated_at: dt.datetime


class WorkflowDetail(Workflow):
    versions: list[VersionOut]

"""Workflow definitions as workers register them, and how the API shows them."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

import msgspec

Name = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9_.:-]{1,100}$",
                                   description="Letters, digits and _ . : - (≤ 100)")]
MAX_TASKS = 500

# --- flow control (docs/flow-control.md) -------------------------------------------------------

Expression = Annotated[str, msgspec.Meta(min_length=1, max_length=1000,
                                         description="CEL over `input` and `metadata`")]
ConcurrencyStrategy = Literal["GROUP_ROUND_ROBIN", "CANCEL_IN_PROGRESS", "CANCEL_NEWEST"]
Window = Literal["second", "minute", "hour", "day"]
LabelValue = str | int | float | bool


class ConcurrencyLimit(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """At most ``max_runs`` runs (or tasks, at task level) per value of ``expression``."""

    expression: Expression
    max_runs: Annotated[int, msgspec.Meta(ge=1, le=100_000)]
    strategy: ConcurrencyStrategy = "GROUP_ROUND_ROBIN"


MaxRuns = Annotated[int, msgspec.Meta(ge=1, le=100_000, description="a plain cap (one key)")]
Concurrency = MaxRuns | Annotated[list[ConcurrencyLimit], msgspec.Meta(min_length=1,
                                                                       max_length=10)]


class RateLimitUse(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """A task consumes ``units`` of a rate limit: a static ``key`` (its limit set through
    ``PUT /api/v1/rate-limits/{key}``, or ``limit``/``window`` here as its default) or a
    ``dynamic_key`` expression (then ``limit`` and ``window`` are required)."""

    key: Annotated[str, msgspec.Meta(min_length=1, max_length=255)] | None = None
    dynamic_key: Expression | None = None
    units: Annotated[int, msgspec.Meta(ge=0, le=1_000_000)] | Expression = 1
    limit: Annotated[int, msgspec.Meta(ge=1, le=1_000_000_000)] | None = None
    window: Window | None = None


class DesiredLabel(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """A worker label the task needs (``required``) or prefers (``weight`` when not required)."""

    value: LabelValue
    required: bool = False
    weight: Annotated[int, msgspec.Meta(ge=1, le=1000)] = 100


# --- DAG conditions (docs/durable.md, "Conditions in DAGs") -------------------------------------


class Condition(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """One condition: exactly one of ``sleep_for``, ``event`` or ``parent`` — or an or-group
    ``any_of`` of such conditions, satisfied when any member is."""

    sleep_for: Annotated[float, msgspec.Meta(ge=0, le=365 * 86400)] | None = None
    """Seconds, counted from the moment the task became ready."""
    event: Annotated[str, msgspec.Meta(min_length=1, max_length=255)] | None = None
    """An event key; met by an event of this key stored after the task became ready."""
    filter: Annotated[str, msgspec.Meta(min_length=1, max_length=2000)] | None = None
    """With ``event``: CEL over the event's ``payload``, ``metadata`` and ``key``."""
    scope: Annotated[str, msgspec.Meta(min_length=1, max_length=1000)] | None = None
    """With ``event``: CEL over the run's ``input`` and ``metadata`` giving the scope; only
    events whose ``metadata.scope`` equals it match."""
    parent: Name | None = None
    """A parent task; met when ``expression`` (CEL over its ``output``, and the run's
    ``input`` and ``metadata``) is true when this task becomes ready."""
    expression: Annotated[str, msgspec.Meta(min_length=1, max_length=2000)] | None = None
    any_of: Annotated[list[Condition], msgspec.Meta(min_length=1, max_length=20)] | None = None


Conditions = Annotated[list[Condition], msgspec.Meta(max_length=20)]


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
    concurrency: Concurrency | None = None
    """Task-level limit: at most N of this task running per key (GROUP_ROUND_ROBIN only)."""
    rate_limits: Annotated[list[RateLimitUse], msgspec.Meta(max_length=10)] = msgspec.field(
        default_factory=list
    )
    desired_labels: Annotated[dict[str, DesiredLabel], msgspec.Meta(max_length=20)] = (
        msgspec.field(default_factory=dict)
    )
    durable: bool = False
    """A durable task (docs/durable.md): its steps and waits are logged and replayed."""
    wait_for: Conditions = msgspec.field(default_factory=list)
    """Start only when every entry is met (docs/durable.md, "Conditions in DAGs")."""
    skip_if: Conditions = msgspec.field(default_factory=list)
    """Skip the task when every entry is met."""
    cancel_if: Conditions = msgspec.field(default_factory=list)
    """Cancel the task when every entry is met."""

    @property
    def conditioned(self) -> bool:
        return bool(self.wait_for or self.skip_if or self.cancel_if)


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
    concurrency: Concurrency | None = None
    """Workflow-level limit: at most N unfinished runs per key."""
    default_priority: Annotated[int, msgspec.Meta(ge=1, le=3)] | None = None
    """Priority of runs triggered without one (1 low, 2 normal, 3 high; default 2)."""
    sticky: Literal["none", "soft", "hard"] | None = None
    """Keep a run's tasks on the worker that ran its first task: when possible, or always."""


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

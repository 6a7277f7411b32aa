"""The worker protocol's bodies (see docs/protocol.md)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any, Literal

import msgspec

Action = Annotated[str, msgspec.Meta(min_length=3, max_length=201)]
MAX_BATCH = 1000


class WorkerRegister(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    actions: Annotated[list[Action], msgspec.Meta(min_length=1, max_length=1000)]
    slots: Annotated[int, msgspec.Meta(ge=1, le=10_000)] = 10
    labels: Annotated[dict[str, str | int | float | bool], msgspec.Meta(max_length=50)] = (
        msgspec.field(default_factory=dict)
    )


class WorkerRegistered(msgspec.Struct):
    id: uuid.UUID
    heartbeat_interval: float
    lease_seconds: float
    max_poll_wait: float


class PollRequest(msgspec.Struct, forbid_unknown_fields=True):
    max_tasks: Annotated[int, msgspec.Meta(ge=1, le=MAX_BATCH)] = 1
    wait: Annotated[float, msgspec.Meta(ge=0, le=60)] = 20.0


class DurableEntry(msgspec.Struct):
    seq: int
    kind: str
    name: str
    result: Any


class Assignment(msgspec.Struct):
    task_run_id: uuid.UUID
    lease_id: uuid.UUID
    run_id: uuid.UUID
    workflow: str
    task: str
    action: str
    attempt: int
    input: Any
    metadata: dict[str, Any]
    parents: dict[str, Any]
    execution_timeout: float
    errors: dict[str, str] = msgspec.field(default_factory=dict)
    """For an on-failure task: each failed task's error."""
    durable_log: list[DurableEntry] = msgspec.field(default_factory=list)
    """For a resumed durable task: its recorded calls, replayed by the SDK (docs/durable.md)."""
    skipped_parents: list[str] = msgspec.field(default_factory=list)
    """Parents skipped by their DAG conditions (their ``parents`` output is null)."""


class PollResponse(msgspec.Struct):
    tasks: list[Assignment]


class HeldTask(msgspec.Struct, forbid_unknown_fields=True):
    task_run_id: uuid.UUID
    lease_id: uuid.UUID


class HeartbeatRequest(msgspec.Struct, forbid_unknown_fields=True):
    tasks: Annotated[list[HeldTask], msgspec.Meta(max_length=10_000)] = msgspec.field(
        default_factory=list
    )


class HeartbeatResponse(msgspec.Struct):
    cancel: list[uuid.UUID]


class TaskResult(msgspec.Struct, forbid_unknown_fields=True):
    task_run_id: uuid.UUID
    lease_id: uuid.UUID
    status: Literal["succeeded", "failed", "released"]
    output: Any = None
    error: Annotated[str, msgspec.Meta(max_length=10_000)] | None = None
    traceback: Annotated[str, msgspec.Meta(max_length=100_000)] | None = None
    retryable: bool = True


class ResultsRequest(msgspec.Struct, forbid_unknown_fields=True):
    results: Annotated[list[TaskResult], msgspec.Meta(min_length=1, max_length=MAX_BATCH)]


class ResultsResponse(msgspec.Struct):
    accepted: list[uuid.UUID]
    rejected: list[uuid.UUID]


class LogLineIn(msgspec.Struct, forbid_unknown_fields=True):
    task_run_id: uuid.UUID
    lease_id: uuid.UUID
    message: Annotated[str, msgspec.Meta(max_length=10_000)]
    at: dt.datetime | None = None
    level: Literal["debug", "info", "warning", "error"] = "info"


class LogsRequest(msgspec.Struct, forbid_unknown_fields=True):
    lines: Annotated[list[LogLineIn], msgspec.Meta(min_length=1, max_length=MAX_BATCH)]


class Worker(msgspec.Struct):
    id: uuid.UUID
    name: str
    status: str
    slots: int
    actions: list[str]
    labels: dict[str, Any]
    registered_at: dt.datetime
    last_heartbeat_at: dt.datetime
    running: int


class RefreshTimeout(msgspec.Struct, forbid_unknown_fields=True):
    task_run_id: uuid.UUID
    lease_id: uuid.UUID
    seconds: Annotated[float, msgspec.Meta(gt=0, le=7 * 86400)]
    """The task may run at least this long from now (never shortens the current timeout)."""


class ChildRun(msgspec.Struct, forbid_unknown_fields=True):
    input: Any = msgspec.field(default_factory=dict)
    metadata: Annotated[dict[str, Any], msgspec.Meta(max_length=50)] = msgspec.field(
        default_factory=dict
    )
    key: Annotated[str, msgspec.Meta(min_length=1, max_length=255)] | None = None
    """Dedupe key: a retried parent spawning the same key gets the same child run."""
    priority: Annotated[int, msgspec.Meta(ge=1, le=3)] | None = None


class SpawnRequest(msgspec.Struct, forbid_unknown_fields=True):
    task_run_id: uuid.UUID
    lease_id: uuid.UUID
    workflow: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    children: Annotated[list[ChildRun], msgspec.Meta(min_length=1, max_length=MAX_BATCH)]


class SpawnedRun(msgspec.Struct):
    id: uuid.UUID
    created: bool


class SpawnResponse(msgspec.Struct):
    runs: list[SpawnedRun]

"""Runs as the API shows them, and trigger requests."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any

import msgspec

Priority = Annotated[int, msgspec.Meta(ge=1, le=3, description="1 low, 2 normal, 3 high")]
Metadata = Annotated[dict[str, Any], msgspec.Meta(max_length=50)]
MAX_BULK = 1000


class RunCreate(msgspec.Struct, forbid_unknown_fields=True):
    input: Any = msgspec.field(default_factory=dict)
    metadata: Metadata = msgspec.field(default_factory=dict)
    priority: Priority | None = None


class BulkRunItem(RunCreate, forbid_unknown_fields=True):
    key: Annotated[str, msgspec.Meta(min_length=1, max_length=255)] | None = None
    """Idempotency key of this item."""


class BulkRunCreate(msgspec.Struct, forbid_unknown_fields=True):
    runs: Annotated[list[BulkRunItem], msgspec.Meta(min_length=1, max_length=MAX_BULK)]


class BulkRunsCreated(msgspec.Struct):
    ids: list[uuid.UUID]


class RunSummary(msgspec.Struct):
    id: uuid.UUID
    workflow: str
    status: str
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    metadata: dict[str, Any]
    priority: int
    error: str | None
    parent_run_id: uuid.UUID | None


class RunCounts(msgspec.Struct):
    counts: dict[str, int]
    """Runs per status under the filters (every status present, zeros included)."""
    total: int


class Attempt(msgspec.Struct):
    attempt: int
    status: str
    worker_id: uuid.UUID | None
    started_at: dt.datetime
    finished_at: dt.datetime
    error: str | None
    traceback: str | None


class TaskState(msgspec.Struct):
    id: uuid.UUID
    name: str
    status: str
    attempt: int
    parents: list[str]
    output: Any
    error: str | None
    worker_id: uuid.UUID | None
    queued_at: dt.datetime | None
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    waiting_for: str | None
    """Why a pending/queued task has not started: parents, a retry at a time, a free slot."""
    retry_at: dt.datetime | None
    attempts: list[Attempt]
    durable: list[dict[str, Any]] = msgspec.field(default_factory=list)
    """A durable task's calls so far: ``{seq, kind, name, status}`` (docs/durable.md)."""


class Run(RunSummary):
    version: int
    input: Any
    output: Any
    tasks: list[TaskState]


class LogLine(msgspec.Struct):
    at: dt.datetime
    level: str
    message: str
    attempt: int


class RunFilter(msgspec.Struct, forbid_unknown_fields=True):
    status: str | None = None
    workflow: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    metadata: dict[str, str] = msgspec.field(default_factory=dict)


class BulkSelection(msgspec.Struct, forbid_unknown_fields=True):
    """Either explicit ``ids`` or a ``filter`` (at most 1,000 runs per call)."""

    ids: Annotated[list[uuid.UUID], msgspec.Meta(max_length=MAX_BULK)] | None = None
    filter: RunFilter | None = None


class Replay(msgspec.Struct, forbid_unknown_fields=True):
    from_task: Annotated[str, msgspec.Meta(min_length=1, max_length=100)] | None = None
    """Re-run this task and its descendants only; the others keep their outputs."""


class BulkReplay(BulkSelection, forbid_unknown_fields=True):
    pass


class Affected(msgspec.Struct):
    ids: list[uuid.UUID]
    """The runs the action applied to."""
    skipped: list[uuid.UUID] = msgspec.field(default_factory=list)
    """Selected runs it did not apply to (already finished, or still running for a replay)."""

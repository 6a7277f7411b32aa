"""Bodies of the durable-task protocol routes (docs/protocol.md, "Durable tasks")."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

import msgspec

Seq = Annotated[int, msgspec.Meta(ge=1, le=100_000)]
StepName = Annotated[str, msgspec.Meta(min_length=1, max_length=255)]


class StepRecord(msgspec.Struct, forbid_unknown_fields=True):
    task_run_id: uuid.UUID
    lease_id: uuid.UUID
    seq: Seq
    name: StepName
    result: Any = None
    kind: Literal["step", "spawn"] = "step"


class LogEntry(msgspec.Struct):
    seq: int
    kind: str
    name: str
    result: Any


class WaitRegister(msgspec.Struct, forbid_unknown_fields=True):
    task_run_id: uuid.UUID
    lease_id: uuid.UUID
    seq: Seq
    name: StepName
    conditions: dict[str, Any]
    """``{"any_of" | "all_of": [{"sleep_for": s} | {"sleep_until": ts} |
    {"event": key, "filter"?: CEL, "scope"?: str}]}``"""
    timeout: Annotated[float, msgspec.Meta(gt=0, le=365 * 86400)] | None = None


class WaitReply(msgspec.Struct, omit_defaults=True):
    satisfied: bool = False
    suspended: bool = False
    result: Any = None

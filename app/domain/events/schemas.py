"""Events as the API takes and shows them."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any, Literal

import msgspec

Key = Annotated[str, msgspec.Meta(
    min_length=1, max_length=255, description="Event key, e.g. order:created (no whitespace or *)")]
Metadata = Annotated[dict[str, Any], msgspec.Meta(max_length=50)]
MAX_BULK = 1000
MAX_PAYLOAD_BYTES = 256 * 1024
"""Largest JSON payload of one event (a bigger one is refused with 413)."""
Source = Literal["api", "webhook"]


class EventCreate(msgspec.Struct, forbid_unknown_fields=True):
    key: Key
    payload: Any = msgspec.field(default_factory=dict)
    """Any JSON; it becomes the input of every run the event starts."""
    metadata: Metadata = msgspec.field(default_factory=dict)
    """Copied onto the runs' metadata (with ``event_id`` and ``event_key``)."""


class BulkEventCreate(msgspec.Struct, forbid_unknown_fields=True):
    events: Annotated[list[EventCreate], msgspec.Meta(min_length=1, max_length=MAX_BULK)]


class EventCreated(msgspec.Struct):
    id: uuid.UUID
    key: str
    runs: list[uuid.UUID]
    """The runs this event started (empty when no workflow subscribes to it)."""


class BulkEventsCreated(msgspec.Struct):
    events: list[EventCreated]


class TriggeredRun(msgspec.Struct):
    id: uuid.UUID
    workflow: str
    status: str


class Event(msgspec.Struct):
    id: uuid.UUID
    key: str
    payload: Any
    metadata: dict[str, Any]
    source: Source
    webhook_id: uuid.UUID | None
    runs: list[uuid.UUID]
    triggered: list[TriggeredRun]
    """The runs with their workflow and current status (runs deleted since are left out)."""
    created_at: dt.datetime

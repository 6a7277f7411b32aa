from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any

import msgspec

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
EventName = Annotated[str, msgspec.Meta(pattern=r"^[a-z_]+\.[a-z_]+$", max_length=50)]


class ChannelType(msgspec.Struct):
    type: str
    title: str
    description: str
    config_schema: dict[str, Any]
    """JSON Schema of ``config``; ``writeOnly`` properties are secrets (never returned)."""
    plugin: str | None = None


class ChannelTypeList(msgspec.Struct):
    items: list[ChannelType]


class ChannelFilters(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=False):
    workflows: Annotated[list[str], msgspec.Meta(max_length=100)] = msgspec.field(
        default_factory=list
    )
    """Workflow names, or patterns with ``*`` (``etl-*``). Empty: every workflow."""
    metadata: dict[str, str] = msgspec.field(default_factory=dict)
    """Run metadata that must match exactly (every pair). Empty: any."""


class ChannelCreate(msgspec.Struct, forbid_unknown_fields=True):
    type: Annotated[str, msgspec.Meta(min_length=1, max_length=50)]
    name: Name
    config: dict[str, Any]
    events: Annotated[list[EventName], msgspec.Meta(min_length=1, max_length=20)]
    filters: ChannelFilters = msgspec.field(default_factory=ChannelFilters)
    enabled: bool = True


class ChannelUpdate(msgspec.Struct, forbid_unknown_fields=True):
    """Fields left out keep their value. In ``config``, secret fields left out keep theirs."""

    name: Name | None = None
    config: dict[str, Any] | None = None
    events: Annotated[list[EventName], msgspec.Meta(min_length=1, max_length=20)] | None = None
    filters: ChannelFilters | None = None
    enabled: bool | None = None


class Channel(msgspec.Struct):
    id: uuid.UUID
    type: str
    name: str
    config: dict[str, Any]
    """Settings without secrets."""
    secrets_set: list[str]
    """Names of the secret settings that hold a value (values are never returned)."""
    events: list[str]
    filters: ChannelFilters
    enabled: bool
    disabled_reason: str | None
    consecutive_failures: int
    failing_since: dt.datetime | None
    last_success_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime


class ChannelCreated(Channel):
    generated_secrets: dict[str, str] = msgspec.field(default_factory=dict)
    """Secrets Kiln generated for this channel (e.g. the webhook ``whsec_`` signing secret).
    Shown in this response only: store them now."""


class Attempt(msgspec.Struct):
    attempt: int
    started_at: dt.datetime
    finished_at: dt.datetime
    succeeded: bool
    status_code: int | None
    detail: str | None


class Delivery(msgspec.Struct):
    id: uuid.UUID
    channel_id: uuid.UUID
    webhook_id: str
    event: str
    event_count: int
    """Events this delivery stands for (more than 1 when failures were grouped)."""
    status: str
    """``pending``, ``succeeded``, ``failed`` (gave up) or ``cancelled`` (channel disabled)."""
    attempts: list[Attempt]
    next_attempt_at: dt.datetime | None
    last_error: str | None
    payload: dict[str, Any]
    created_at: dt.datetime
    finished_at: dt.datetime | None

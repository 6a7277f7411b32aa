from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

import msgspec

Scope = Literal["admin", "trigger", "worker", "read"]


class ApiKeyCreate(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    scopes: Annotated[list[Scope], msgspec.Meta(min_length=1, max_length=4)] = msgspec.field(
        default_factory=lambda: ["admin"]
    )
    expires_at: dt.datetime | None = None
    """When the key stops working (timezone-aware). Absent: never."""


class ApiKey(msgspec.Struct):
    id: uuid.UUID
    name: str
    prefix: str
    scopes: list[str]
    created_at: dt.datetime
    expires_at: dt.datetime | None
    revoked_at: dt.datetime | None
    last_used_at: dt.datetime | None
    created_by: uuid.UUID | None


class ApiKeyCreated(ApiKey):
    key: str
    """The secret. Shown in this response only; store it now."""

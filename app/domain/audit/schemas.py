"""Response bodies of the audit log."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import msgspec


class AuditEntry(msgspec.Struct):
    """One security-relevant action: who (``actor_type``/``actor_id``: a user, an API key, or the
    system), what (``action``, e.g. ``api_key.created``), to what (``target_type``/``target_id``),
    when and from where."""

    id: uuid.UUID
    at: dt.datetime
    action: str
    actor_type: str
    actor_id: uuid.UUID | None
    target_type: str | None
    target_id: str | None
    details: dict[str, Any]
    ip: str | None

"""The audit log: one row per security-relevant action, written in the action's transaction."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import AuditEntry
from app.domain.auth.principal import Principal


def record(
    session: AsyncSession,
    *,
    tenant_id: uuid.UUID,
    action: str,
    actor: Principal | None = None,
    actor_user_id: uuid.UUID | None = None,
    target_type: str | None = None,
    target_id: object = None,
    details: dict[str, Any] | None = None,
    ip: str | None = None,
) -> None:
    """Add an entry; ``actor`` is the caller, or ``actor_user_id`` before a principal exists."""
    if actor is not None:
        actor_type, actor_id = actor.kind, actor.actor_id
    elif actor_user_id is not None:
        actor_type, actor_id = "user", actor_user_id
    else:
        actor_type, actor_id = "system", None
    session.add(AuditEntry(
        tenant_id=tenant_id, actor_type=actor_type, actor_id=actor_id, action=action,
        target_type=target_type, target_id=None if target_id is None else str(target_id),
        details=details or {}, ip=ip,
    ))

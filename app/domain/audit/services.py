"""The audit log: one row per security-relevant action, written in the action's transaction."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import pagination
from app.db.database import Database
from app.db.models import AuditEntry
from app.domain.audit import schemas
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


async def list_entries(
    db: Database, principal: Principal, action: str | None, limit: int | None,
    cursor: str | None,
) -> pagination.Page[schemas.AuditEntry]:
    """The caller's tenant's entries, newest first (ids are time-ordered UUIDv7)."""
    query, size = pagination.keyset(
        select(AuditEntry), AuditEntry.id, limit, cursor, newest_first=True
    )
    if action is not None:
        query = query.where(AuditEntry.action == action)
    async with db.transaction(principal.tenancy()) as s:
        rows = list((await s.execute(query)).scalars())
    return pagination.page([_out(r) for r in rows], [r.id for r in rows], size)


def _out(row: AuditEntry) -> schemas.AuditEntry:
    return schemas.AuditEntry(
        id=row.id, at=row.at, action=row.action, actor_type=row.actor_type,
        actor_id=row.actor_id, target_type=row.target_type, target_id=row.target_id,
        details=row.details, ip=row.ip,
    )

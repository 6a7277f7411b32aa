"""Members of a tenant and their roles.

Rules: only owners and admins manage members (the route guards); only an owner may touch an
owner's membership or make someone an owner; and no change may leave a tenant without an owner.
That last rule locks every owner membership of the tenant (``FOR UPDATE``) before counting, so two
owners demoting each other at the same moment cannot both succeed.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import pagination
from app.core.errors import Conflict, Forbidden, NotFound
from app.db.database import Database
from app.db.models import Membership, Session, User
from app.domain.audit import services as audit
from app.domain.auth.principal import Principal
from app.domain.members import schemas

OWNER = "owner"


def _out(membership: Membership, user: User) -> schemas.Member:
    return schemas.Member(
        user_id=membership.user_id, email=user.email, name=user.name, role=membership.role,
        joined_at=membership.created_at,
    )


async def list_members(
    db: Database, principal: Principal, limit: int | None, cursor: str | None
) -> pagination.Page[schemas.Member]:
    """Members of the caller's tenant, oldest account first."""
    query, size = pagination.keyset(
        select(Membership, User).join(User, User.id == Membership.user_id),
        Membership.user_id, limit, cursor,
    )
    async with db.transaction(principal.tenancy()) as s:
        rows = (await s.execute(query)).tuples().all()
    return pagination.page(
        [_out(m, u) for m, u in rows], [m.user_id for m, _ in rows], size
    )


async def _lock_owners(s: AsyncSession) -> set[uuid.UUID]:
    result = await s.execute(
        select(Membership.user_id).where(Membership.role == OWNER).with_for_update()
    )
    return set(result.scalars())


async def _target(s: AsyncSession, principal: Principal, user_id: uuid.UUID) -> Membership:
    membership = await s.get(Membership, (principal.tenant_id, user_id), with_for_update=True)
    if membership is None:
        raise NotFound(f"user {user_id} is not a member of this tenant")
    return membership


def _check_authority(principal: Principal, current: str, new: str | None = None) -> None:
    if principal.role != OWNER and OWNER in (current, new):
        raise Forbidden("only an owner can change or remove an owner, or make someone an owner")


def _check_not_last_owner(owners: set[uuid.UUID], membership: Membership) -> None:
    if membership.role == OWNER and owners == {membership.user_id}:
        raise Conflict(
            "this is the tenant's last owner: make another member an owner first"
        )


async def change_role(
    db: Database, principal: Principal, user_id: uuid.UUID, role: str, ip: str | None
) -> schemas.Member:
    async with db.transaction(principal.tenancy()) as s:
        owners = await _lock_owners(s)
        membership = await _target(s, principal, user_id)
        _check_authority(principal, membership.role, role)
        previous = membership.role
        if previous != role:
            if role != OWNER:
                _check_not_last_owner(owners, membership)
            membership.role = role
            audit.record(s, tenant_id=principal.tenant_id, action="member.role_changed",
                         actor=principal, target_type="user", target_id=user_id,
                         details={"from": previous, "to": role}, ip=ip)
        user = await s.get(User, user_id)
        assert user is not None  # a membership's user is always visible to its tenant
    return _out(membership, user)


async def remove(
    db: Database, principal: Principal, user_id: uuid.UUID, ip: str | None
) -> None:
    """Remove a member; their sessions in this tenant end at once."""
    async with db.transaction(principal.tenancy()) as s:
        owners = await _lock_owners(s)
        membership = await _target(s, principal, user_id)
        _check_authority(principal, membership.role)
        _check_not_last_owner(owners, membership)
        await s.delete(membership)
        await s.execute(
            update(Session).where(Session.user_id == user_id, Session.revoked_at.is_(None))
            .values(revoked_at=text("now()"))
        )
        audit.record(s, tenant_id=principal.tenant_id, action="member.removed", actor=principal,
                     target_type="user", target_id=user_id, details={"role": membership.role},
                     ip=ip)

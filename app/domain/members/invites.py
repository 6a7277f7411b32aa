"""Invites: an owner or admin invites an e-mail address with a role; the invitee accepts with the
token, either into the account they are logged in to or into a new account for that address.

The token is shown once; only its SHA-256 is stored. Accepting happens before the invitee belongs
to the tenant, so the token is resolved to its tenant through the ``kiln_private.resolve_invite``
SECURITY DEFINER function (docs/tenancy.md), and everything after that runs as that tenant.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import pagination
from app.core.errors import Conflict, Forbidden, Gone, NotFound, Unauthorized
from app.core.ids import uuid7
from app.db.database import Database
from app.db.models import Invite, Membership, Tenant, User
from app.db.tenancy import TenantContext
from app.domain.audit import services as audit
from app.domain.auth import passwords
from app.domain.auth import schemas as auth_schemas
from app.domain.auth import services as auth
from app.domain.auth.principal import Principal
from app.domain.members import schemas, tokens

_RESOLVE = "select tenant_id, invite_id from kiln_private.resolve_invite($1)"
_ACCOUNT_EXISTS = "select exists (select 1 from kiln_private.login_lookup($1))"
NOT_FOUND = "invite not found: it was revoked, or the token is wrong"


async def _now(s: AsyncSession) -> dt.datetime:
    """Database time, so expiry does not depend on the clocks of the replicas."""
    now: dt.datetime = (await s.execute(select(func.now()))).scalar_one()
    return now


def _status(invite: Invite, now: dt.datetime) -> schemas.InviteStatus:
    if invite.accepted_at is not None:
        return "accepted"
    return "expired" if invite.expires_at <= now else "pending"


def _out(invite: Invite, now: dt.datetime) -> schemas.Invite:
    return schemas.Invite(
        id=invite.id, email=invite.email, role=invite.role, status=_status(invite, now),
        invited_by=invite.invited_by, created_at=invite.created_at, expires_at=invite.expires_at,
        accepted_at=invite.accepted_at, accepted_by=invite.accepted_by,
    )


async def create(
    db: Database, principal: Principal, body: schemas.InviteCreate, ttl: dt.timedelta,
    ip: str | None,
) -> schemas.InviteCreated:
    email = body.email.strip()
    async with db.transaction(principal.tenancy()) as s:
        now = await _now(s)
        member = await s.scalar(
            select(Membership.user_id).join(User, User.id == Membership.user_id)
            .where(func.lower(User.email) == email.lower())
        )
        if member is not None:
            raise Conflict(f"{email} is already a member of this tenant")
        pending = await s.scalar(select(Invite.id).where(
            func.lower(Invite.email) == email.lower(), Invite.accepted_at.is_(None),
            Invite.expires_at > now,
        ))
        if pending is not None:
            raise Conflict(f"{email} already has a pending invite ({pending}); revoke it first")
        token = tokens.generate()
        invite = Invite(
            tenant_id=principal.tenant_id, id=uuid7(), email=email, role=body.role,
            token_hash=tokens.digest(token), invited_by=principal.user_id, created_at=now,
            expires_at=now + ttl,
        )
        s.add(invite)
        audit.record(s, tenant_id=principal.tenant_id, action="invite.created", actor=principal,
                     target_type="invite", target_id=invite.id,
                     details={"email": email, "role": body.role}, ip=ip)
    out = _out(invite, now)
    return schemas.InviteCreated(**{f: getattr(out, f) for f in out.__struct_fields__},
                                 token=token)


async def list_invites(
    db: Database, principal: Principal, limit: int | None, cursor: str | None
) -> pagination.Page[schemas.Invite]:
    """Every invite of the tenant (pending, accepted, expired), newest first."""
    query, size = pagination.keyset(select(Invite), Invite.id, limit, cursor, newest_first=True)
    async with db.transaction(principal.tenancy()) as s:
        now = await _now(s)
        rows = list((await s.execute(query)).scalars())
    return pagination.page([_out(r, now) for r in rows], [r.id for r in rows], size)


async def revoke(
    db: Database, principal: Principal, invite_id: uuid.UUID, ip: str | None
) -> None:
    """Delete a not-yet-accepted invite: its token stops resolving at once."""
    async with db.transaction(principal.tenancy()) as s:
        invite = await s.get(Invite, (principal.tenant_id, invite_id), with_for_update=True)
        if invite is None:
            raise NotFound(f"invite {invite_id} not found")
        if invite.accepted_at is not None:
            raise Conflict("this invite was already accepted; remove the member instead")
        await s.delete(invite)
        audit.record(s, tenant_id=principal.tenant_id, action="invite.revoked", actor=principal,
                     target_type="invite", target_id=invite_id,
                     details={"email": invite.email, "role": invite.role}, ip=ip)


def _check_usable(invite: Invite | None, now: dt.datetime) -> Invite:
    if invite is None:
        raise NotFound(NOT_FOUND)
    if invite.accepted_at is not None:
        raise Conflict("this invite has already been used")
    if invite.expires_at <= now:
        raise Gone(f"this invite expired at {invite.expires_at.isoformat()}; ask for a new one")
    return invite


async def _resolve(db: Database, token: str) -> tuple[uuid.UUID, uuid.UUID]:
    assert db.pool is not None
    row = await db.pool.fetchrow(_RESOLVE, tokens.digest(token))
    if row is None:
        raise NotFound(NOT_FOUND)
    return row["tenant_id"], row["invite_id"]


async def _new_account(
    db: Database, tenant_id: uuid.UUID, invite_id: uuid.UUID, body: schemas.InviteAccept
) -> User:
    """The account to create for the invite's address (checked before hashing the password)."""
    if body.password is None:
        raise Unauthorized(
            "log in to accept this invite into your account, or send a password to create one"
        )
    async with db.transaction(TenantContext(tenant_id=tenant_id)) as s:
        invite = _check_usable(await s.get(Invite, (tenant_id, invite_id)), await _now(s))
        email = invite.email
    assert db.pool is not None
    if await db.pool.fetchval(_ACCOUNT_EXISTS, email):
        raise Conflict(f"an account for {email} exists: log in, then accept the invite")
    password_hash = await passwords.hash_password(body.password)
    return User(id=uuid7(), email=email, password_hash=password_hash, name=body.name)


async def _join(
    db: Database, tenant_id: uuid.UUID, invite_id: uuid.UUID, user: User, *, new_account: bool,
    ip: str | None,
) -> auth_schemas.MembershipOut:
    """Use the invite: (create the account,) add the membership, mark the invite accepted."""
    async with db.transaction(TenantContext(tenant_id=tenant_id, user_id=user.id)) as s:
        now = await _now(s)
        invite = _check_usable(
            await s.get(Invite, (tenant_id, invite_id), with_for_update=True), now
        )
        if invite.email.lower() != user.email.lower():
            raise Forbidden(f"this invite is for {invite.email}; you are logged in as {user.email}")
        if new_account:
            s.add(user)
            await s.flush()
        elif await s.get(Membership, (tenant_id, user.id)) is not None:
            raise Conflict("you are already a member of this tenant")
        s.add(Membership(tenant_id=tenant_id, user_id=user.id, role=invite.role))
        invite.accepted_at, invite.accepted_by = now, user.id
        tenant = await s.get(Tenant, tenant_id)
        assert tenant is not None  # the invite's tenant: ON DELETE CASCADE removes both
        audit.record(s, tenant_id=tenant_id, action="invite.accepted", actor_user_id=user.id,
                     target_type="invite", target_id=invite_id,
                     details={"email": invite.email, "role": invite.role,
                              "new_account": new_account}, ip=ip)
    return auth_schemas.MembershipOut(
        tenant=auth_schemas.TenantOut(id=tenant.id, name=tenant.name), role=invite.role
    )


async def accept(
    db: Database, config: auth.AuthConfig, body: schemas.InviteAccept,
    principal: Principal | None, ip: str | None,
) -> auth_schemas.SessionOut:
    """Accept an invite and open a session in its tenant."""
    if principal is not None and principal.user_id is None:
        raise Forbidden("an API key cannot accept an invite; accept it as a user")
    tenant_id, invite_id = await _resolve(db, body.token)
    if principal is not None:
        assert principal.user_id is not None
        user, new_account = await auth.load_user(db, principal.user_id), False
    else:
        user, new_account = await _new_account(db, tenant_id, invite_id, body), True
    try:
        membership = await _join(db, tenant_id, invite_id, user, new_account=new_account, ip=ip)
    except IntegrityError as exc:
        if "users_email_key" in str(exc.orig):  # the account was created concurrently
            raise Conflict(f"an account for {user.email} exists: log in, then accept") from exc
        raise
    return await auth.open_session(
        db, config, user, membership, action="auth.session_created", ip=ip
    )

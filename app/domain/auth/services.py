"""Sign-up, login, logout, tenant switching and "who am I"."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy import select, text, update
from sqlalchemy.exc import IntegrityError

from app.core.errors import Conflict, Forbidden, NotFound, Unauthorized
from app.core.ids import uuid7
from app.db.database import Database
from app.db.models import Membership, Session, Tenant, User
from app.db.tenancy import TenantContext
from app.domain.audit import services as audit
from app.domain.auth import passwords, schemas, throttle
from app.domain.auth.principal import Principal
from app.domain.auth.tokens import SessionClaims, TokenSigner

LOGIN_FAILED = "wrong e-mail or password"


@dataclass(frozen=True, slots=True)
class AuthConfig:
    signer: TokenSigner
    session_ttl: dt.timedelta


async def _memberships(db: Database, user_id: uuid.UUID) -> list[schemas.MembershipOut]:
    assert db.pool is not None
    rows = await db.pool.fetch("select * from kiln_private.user_tenants($1)", user_id)
    return [
        schemas.MembershipOut(tenant=schemas.TenantOut(id=r["tenant_id"], name=r["tenant_name"]),
                              role=r["role"])
        for r in rows
    ]


async def open_session(
    db: Database, config: AuthConfig, user: User, membership: schemas.MembershipOut,
    *, action: str, ip: str | None,
) -> schemas.SessionOut:
    """Record a server-side session for ``user`` in ``membership``'s tenant and sign its token."""
    tenant_id = membership.tenant.id
    session_id = uuid7()
    expires_at = dt.datetime.now(dt.UTC) + config.session_ttl
    async with db.transaction(TenantContext(tenant_id=tenant_id, user_id=user.id)) as s:
        s.add(Session(tenant_id=tenant_id, id=session_id, user_id=user.id, expires_at=expires_at))
        audit.record(s, tenant_id=tenant_id, action=action, actor_user_id=user.id,
                     target_type="session", target_id=session_id, ip=ip)
    token = config.signer.issue(SessionClaims(user.id, tenant_id, session_id), expires_at)
    return schemas.SessionOut(
        token=token,
        user=schemas.UserOut(id=user.id, email=user.email, name=user.name),
        tenant=membership.tenant,
        role=membership.role,
        tenants=await _memberships(db, user.id),
        expires_at=expires_at.isoformat(),
    )


async def signup(
    db: Database, config: AuthConfig, body: schemas.SignupRequest, ip: str | None
) -> schemas.SessionOut:
    password_hash = await passwords.hash_password(body.password)
    user = User(id=uuid7(), email=body.email.strip(), password_hash=password_hash, name=body.name)
    tenant = Tenant(id=uuid7(), name=body.tenant_name.strip())
    try:
        async with db.transaction(TenantContext(tenant_id=tenant.id, user_id=user.id)) as s:
            s.add(tenant)
            await s.flush()
            s.add(user)
            await s.flush()
            s.add(Membership(tenant_id=tenant.id, user_id=user.id, role="owner"))
            audit.record(s, tenant_id=tenant.id, action="auth.signup", actor_user_id=user.id,
                         target_type="user", target_id=user.id, ip=ip)
    except IntegrityError as exc:
        if "users_email_key" in str(exc.orig):
            raise Conflict("an account with this e-mail already exists; log in instead") from exc
        raise
    membership = schemas.MembershipOut(
        tenant=schemas.TenantOut(id=tenant.id, name=tenant.name), role="owner"
    )
    return await open_session(db, config, user, membership, action="auth.session_created", ip=ip)


async def load_user(db: Database, user_id: uuid.UUID) -> User:
    """The account ``user_id`` (read as that user, before any tenant is chosen)."""
    async with db.transaction(TenantContext(tenant_id=None, user_id=user_id)) as s:
        user = await s.get(User, user_id)
    if user is None:
        raise Unauthorized("account no longer exists")
    return user


async def login(
    db: Database, config: AuthConfig, body: schemas.LoginRequest, ip: str | None
) -> schemas.SessionOut:
    assert db.pool is not None
    await throttle.check(db, body.email, ip)
    row = await db.pool.fetchrow("select * from kiln_private.login_lookup($1)", body.email.strip())
    ok = await passwords.verify_password(row["password_hash"] if row else None, body.password)
    if row is None or not ok:
        await throttle.failed(db, body.email, ip)
        raise Unauthorized(LOGIN_FAILED)
    await throttle.succeeded(db, body.email)
    user = await load_user(db, row["user_id"])
    memberships = await _memberships(db, user.id)
    return await open_session(
        db, config, user, _choose(memberships, body.tenant_id), action="auth.login", ip=ip
    )


def _choose(
    memberships: list[schemas.MembershipOut], tenant_id: uuid.UUID | None
) -> schemas.MembershipOut:
    if not memberships:
        raise Forbidden("this account is not a member of any tenant")
    if tenant_id is None:
        return memberships[0]
    for membership in memberships:
        if membership.tenant.id == tenant_id:
            return membership
    raise NotFound(f"you are not a member of tenant {tenant_id}")


async def switch_tenant(
    db: Database, config: AuthConfig, principal: Principal, tenant_id: uuid.UUID, ip: str | None
) -> schemas.SessionOut:
    if principal.user_id is None:
        raise Forbidden("only users can switch tenants; an API key belongs to one tenant")
    user = await load_user(db, principal.user_id)
    membership = _choose(await _memberships(db, user.id), tenant_id)
    return await open_session(db, config, user, membership, action="auth.switch_tenant", ip=ip)


async def logout(db: Database, principal: Principal, ip: str | None) -> None:
    if principal.session_id is None:
        raise Forbidden("API keys have no session to log out of; revoke the key instead")
    async with db.transaction(principal.tenancy()) as s:
        await s.execute(
            update(Session).where(Session.id == principal.session_id)
            .values(revoked_at=text("now()"))
        )
        audit.record(s, tenant_id=principal.tenant_id, action="auth.logout", actor=principal,
                     target_type="session", target_id=principal.session_id, ip=ip)


async def me(db: Database, principal: Principal) -> schemas.Me:
    async with db.transaction(principal.tenancy()) as s:
        tenant = (await s.execute(select(Tenant))).scalar_one()
        user = await s.get(User, principal.user_id) if principal.user_id else None
    out = schemas.Me(
        kind=principal.kind,
        tenant=schemas.TenantOut(id=tenant.id, name=tenant.name),
        role=principal.role,
        api_key_id=principal.api_key_id,
        scopes=list(principal.scopes),
        permissions=sorted(principal.permissions),
    )
    if user is not None:
        out.user = schemas.UserOut(id=user.id, email=user.email, name=user.name)
        out.tenants = await _memberships(db, user.id)
    return out

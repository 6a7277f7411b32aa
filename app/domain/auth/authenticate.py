"""Turn request credentials into a :class:`Principal` (or refuse them).

Bearer header first (API key or session token), then the session cookie. Checks that need the
database use the raw pool: this runs on every request, including every worker poll.
"""

from __future__ import annotations

import datetime as dt
import secrets as std_secrets
import uuid

from app.core.errors import Forbidden, Unauthorized
from app.db.database import Database
from app.db.tenancy import TenantContext
from app.domain.api_keys import secrets as key_secrets
from app.domain.auth import principal as principals
from app.domain.auth.tokens import TokenSigner

SESSION_COOKIE = "kiln_session"
CSRF_COOKIE = "kiln_csrf"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
LAST_USED_GRANULARITY = dt.timedelta(minutes=1)

_RESOLVE_KEY = (
    "select tenant_id, key_id, scopes, expires_at, revoked_at, last_used_at,"
    " now() as db_now from kiln_private.resolve_api_key($1)"
)
_TOUCH_KEY = (
    "update api_keys set last_used_at = now() where id = $1"
    " and (last_used_at is null or last_used_at < now() - interval '1 minute')"
)
_SESSION_ROLE = (
    "select m.role from sessions s join memberships m"
    " on m.tenant_id = s.tenant_id and m.user_id = s.user_id"
    " where s.id = $1 and s.user_id = $2 and s.revoked_at is null and s.expires_at > now()"
)


async def from_api_key(db: Database, key: str) -> principals.Principal:
    if not key_secrets.well_formed(key):
        raise Unauthorized("API key is malformed (bad checksum or length)")
    assert db.pool is not None
    row = await db.pool.fetchrow(_RESOLVE_KEY, key_secrets.digest(key))
    if row is None:
        raise Unauthorized("API key is not valid")
    if row["revoked_at"] is not None:
        raise Unauthorized("API key has been revoked")
    if row["expires_at"] is not None and row["expires_at"] <= row["db_now"]:
        raise Unauthorized("API key has expired")
    last_used = row["last_used_at"]
    if last_used is None or row["db_now"] - last_used >= LAST_USED_GRANULARITY:
        async with db.raw(TenantContext(tenant_id=row["tenant_id"])) as connection:
            await connection.execute(_TOUCH_KEY, row["key_id"])
    return principals.for_api_key(row["tenant_id"], row["key_id"], list(row["scopes"]))


async def from_session_token(
    db: Database, signer: TokenSigner, token: str, *, via_cookie: bool
) -> principals.Principal:
    claims = signer.verify(token)
    context = TenantContext(tenant_id=claims.tenant_id, user_id=claims.user_id)
    async with db.raw(context) as connection:
        role = await connection.fetchval(_SESSION_ROLE, claims.session_id, claims.user_id)
    if role is None:
        raise Unauthorized("session has ended; log in again")
    return principals.for_user(
        claims.tenant_id, claims.user_id, role, claims.session_id, via_cookie=via_cookie
    )


def check_csrf(method: str, cookie_token: str | None, header_token: str | None) -> None:
    """Double-submit check for cookie-authenticated unsafe requests."""
    if method in SAFE_METHODS:
        return
    if not cookie_token or not header_token or not std_secrets.compare_digest(
        cookie_token, header_token
    ):
        raise Forbidden("missing or wrong CSRF token (send the kiln_csrf cookie as X-CSRF-Token)")


def parse_uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None

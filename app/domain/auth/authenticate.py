"""Turn request credentials into a :class:`Principal` (or refuse them).

Bearer header first (API key or session token), then the session cookie. Checks that need the
database use the raw pool: this runs on every request, including every worker poll — hence the
short-lived in-process cache of resolved API keys (:class:`KeyCache`).
"""

from __future__ import annotations

import datetime as dt
import secrets as std_secrets
import time
import uuid
from collections.abc import Callable

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


class KeyCache:
    """API keys resolved in the last ``ttl`` seconds, so a worker's polls and results do not look
    their key up on every request.

    Revocation stays immediate: the revoking request clears this process's cache before it
    answers, and a trigger on ``api_keys`` (migration 0008) notifies ``kiln_api_keys``, which
    every replica's LISTEN connection turns into :meth:`clear`. While that connection is down
    (``listening`` false) nothing is served from the cache. An expiring key is cached no longer
    than its expiry.
    """

    def __init__(
        self, ttl: float, listening: Callable[[], bool], max_entries: int = 10_000
    ) -> None:
        self.ttl = ttl
        self._listening = listening
        self._max_entries = max_entries
        self._entries: dict[bytes, tuple[float, principals.Principal]] = {}
        self._generation = 0

    def get(self, digest: bytes) -> principals.Principal | None:
        entry = self._entries.get(digest)
        if entry is None or not self._listening():
            return None
        if entry[0] <= time.monotonic():
            del self._entries[digest]
            return None
        return entry[1]

    def generation(self) -> int:
        """Read before a lookup and pass to :meth:`put`: a clear in between voids the lookup."""
        return self._generation

    def put(self, digest: bytes, principal: principals.Principal, generation: int,
            lifetime: float) -> None:
        if generation != self._generation or self.ttl <= 0 or not self._listening():
            return
        if len(self._entries) >= self._max_entries:
            self._entries.clear()
        self._entries[digest] = (time.monotonic() + min(self.ttl, lifetime), principal)

    def clear(self) -> None:
        self._generation += 1
        self._entries.clear()


async def from_api_key(
    db: Database, key: str, cache: KeyCache | None = None
) -> principals.Principal:
    if not key_secrets.well_formed(key):
        raise Unauthorized("API key is malformed (bad checksum or length)")
    digest = key_secrets.digest(key)
    if cache is not None and (cached := cache.get(digest)) is not None:
        return cached
    generation = cache.generation() if cache is not None else 0
    assert db.pool is not None
    row = await db.pool.fetchrow(_RESOLVE_KEY, digest)
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
    principal = principals.for_api_key(row["tenant_id"], row["key_id"], list(row["scopes"]))
    if cache is not None:
        lifetime = cache.ttl if row["expires_at"] is None else (
            row["expires_at"] - row["db_now"]).total_seconds()
        cache.put(digest, principal, generation, lifetime)
    return principal


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

"""Session tokens: JWTs signed with HS256 only, with a ``kid`` for key rotation.

The signing key is derived from ``KILN_SECRET_KEY``; keys derived from
``KILN_PREVIOUS_SECRET_KEYS`` still verify, so rotating the secret does not log everyone out at
once. Every token names a server-side session (``sid``), so logout revokes it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import uuid
from dataclasses import dataclass

import jwt

from app.core.errors import Unauthorized

ALGORITHM = "HS256"
ISSUER = "kiln"
AUDIENCE = "kiln-api"
REQUIRED_CLAIMS = ["exp", "iat", "iss", "aud", "sub", "tid", "sid"]


@dataclass(frozen=True, slots=True)
class SessionClaims:
    user_id: uuid.UUID
    tenant_id: uuid.UUID
    session_id: uuid.UUID


def _derive(secret: str) -> tuple[str, bytes]:
    key = hmac.new(secret.encode(), b"kiln-session-jwt", hashlib.sha256).digest()
    return hashlib.sha256(key).hexdigest()[:16], key


class TokenSigner:
    def __init__(self, secret: str, previous: list[str] | None = None) -> None:
        self._kid, self._key = _derive(secret)
        self._verify_keys = dict([_derive(secret), *(_derive(old) for old in previous or [])])

    def issue(self, claims: SessionClaims, expires_at: dt.datetime) -> str:
        now = dt.datetime.now(dt.UTC)
        payload = {
            "iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": expires_at,
            "sub": str(claims.user_id), "tid": str(claims.tenant_id), "sid": str(claims.session_id),
        }
        return jwt.encode(payload, self._key, algorithm=ALGORITHM, headers={"kid": self._kid})

    def verify(self, token: str) -> SessionClaims:
        """Decode and check a token; raise :class:`Unauthorized` for anything wrong with it."""
        try:
            header = jwt.get_unverified_header(token)
            key = self._verify_keys.get(str(header.get("kid")))
            if key is None:
                raise Unauthorized("session token was signed with an unknown key")
            payload = jwt.decode(
                token, key, algorithms=[ALGORITHM], audience=AUDIENCE, issuer=ISSUER,
                options={"require": REQUIRED_CLAIMS},
            )
            return SessionClaims(
                user_id=uuid.UUID(payload["sub"]),
                tenant_id=uuid.UUID(payload["tid"]),
                session_id=uuid.UUID(payload["sid"]),
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthorized("session token has expired") from exc
        except (jwt.PyJWTError, ValueError, TypeError) as exc:
            raise Unauthorized("session token is invalid") from exc

"""Database URLs: the owner URL users give us, and the login-role URL the pools use."""

from __future__ import annotations

import hashlib
import hmac

from sqlalchemy.engine import URL, make_url

AUTHENTICATOR_ROLE = "kiln_authenticator"


def owner_url(raw: str) -> URL:
    """Parse an owner URL (``postgresql://`` or ``postgres://``, any driver suffix)."""
    url = make_url(raw.replace("postgres://", "postgresql://", 1))
    if url.get_backend_name() != "postgresql":
        raise ValueError(f"KILN_DATABASE_URL must be a postgresql:// URL, got {url.drivername!r}")
    return url


def sqlalchemy_url(url: URL) -> URL:
    return url.set(drivername="postgresql+asyncpg")


def asyncpg_dsn(url: URL) -> str:
    """A DSN asyncpg understands (it rejects SQLAlchemy's ``+driver`` suffix)."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def authenticator_password(secret_key: str, explicit: str | None) -> str:
    """The login role's password: given explicitly, or derived from the secret key so that a
    single secret configures a deployment."""
    if explicit:
        return explicit
    return hmac.new(secret_key.encode(), b"kiln-authenticator", hashlib.sha256).hexdigest()


def authenticator_url(owner: URL, password: str) -> URL:
    """Same server and database as the owner URL, logged in as the unprivileged pool role."""
    return owner.set(username=AUTHENTICATOR_ROLE, password=password)

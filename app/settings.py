"""Server settings, read from the environment with the ``KILN_`` prefix.

Nothing here touches the disk or the network at import time; :func:`load_settings` is called by
the CLI (and by tests) and the result is passed down explicitly.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_HOME = Path("~/.kiln")


class Settings(BaseSettings):
    """Every knob of a Kiln server. Field docs are the reference for ``docs/operations.md``."""

    model_config = SettingsConfigDict(env_prefix="KILN_", extra="ignore")

    database_url: str | None = None
    """Owner URL (runs migrations). Absent: an embedded Postgres in ``$KILN_HOME/pgdata``."""

    home: Path = DEFAULT_HOME
    """Where the embedded Postgres and the generated secret key live."""

    secret_key: str | None = None
    """Signs session tokens and encrypts stored secrets. Absent: generated once into
    ``$KILN_HOME/secret_key``. Set it explicitly for replicas."""

    previous_secret_keys: Annotated[list[str], NoDecode] = Field(default_factory=list)
    """Comma-separated retired keys, still accepted to verify tokens during a rotation."""

    authenticator_password: str | None = None
    """Password of the ``kiln_authenticator`` login role. Absent: derived from the secret key."""

    public_url: str | None = None
    """Base URL users reach this server at (links in alerts, webhook URLs).
    Absent: derived from the bound host and port."""

    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    """Comma-separated origins allowed to call the API from a browser (a separately hosted SPA)."""

    session_ttl_hours: int = 24 * 7
    invite_ttl_hours: int = 24 * 7
    """How long an invite token can be accepted."""
    max_body_bytes: int = 1_048_576
    pool_size: int = 10
    log_level: str = "info"
    log_format: str = "console"
    """``console`` for humans, ``json`` for log shippers."""

    run_loops: bool = True
    """Run the background loops in this process (tests of a single loop turn them off)."""

    frontend_dist: Path | None = None
    """Built SPA folder. Absent: ``frontend/dist`` next to the source tree, if it exists."""

    @field_validator("previous_secret_keys", "cors_origins", mode="before")
    @classmethod
    def _split_commas(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @property
    def home_dir(self) -> Path:
        return self.home.expanduser()

    def resolved_secret_key(self) -> str:
        """The secret key, generating and persisting one under ``$KILN_HOME`` when unset."""
        if self.secret_key:
            return self.secret_key
        path = self.home_dir / "secret_key"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.touch(mode=0o600)
            path.write_text(secrets.token_urlsafe(48))
        self.secret_key = path.read_text().strip()
        return self.secret_key


def load_settings(**overrides: object) -> Settings:
    """Read settings from the environment; keyword overrides win (the CLI and tests use them)."""
    return Settings(**overrides)  # type: ignore[arg-type]

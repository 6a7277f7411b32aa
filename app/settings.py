"""Server settings, read from the environment with the ``KILN_`` prefix.

Nothing here touches the disk or the network at import time; :func:`load_settings` is called by
the CLI (and by tests) and the result is passed down explicitly.
"""

from __future__ import annotations

import os
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
    direct_database_url: str | None = None
    """Owner URL of the same database that reaches Postgres directly, for the connections that
    need a session of their own — LISTEN, the leader-election lock — and migrations. Set it
    when ``database_url`` goes through a transaction-mode pooler (PgBouncer); absent: the same
    as ``database_url``."""

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

    lease_seconds: float = 30.0
    """A claimed task's lease; workers heartbeat every third of it. A worker silent this long
    loses its tasks, which run again elsewhere."""
    max_poll_wait: float = 20.0
    """Longest a worker's long-poll is parked (keep below proxies' idle timeouts)."""
    api_key_cache_seconds: float = 5.0
    """How long a resolved API key is reused without a database lookup (0: never). Revocation
    is still immediate: every replica clears its cache on a NOTIFY."""
    max_rescues: int = 3
    """Lost leases tolerated per task before it fails (a task that kills its worker)."""

    otel_enabled: bool = False
    """Send OpenTelemetry traces (needs the ``kiln-server[otel]`` extra; the exporter reads the
    standard ``OTEL_EXPORTER_OTLP_ENDPOINT``…). Off, or the extra missing: no tracing code runs."""

    metrics_token: str | None = None
    """When set, ``GET /metrics`` needs ``Authorization: Bearer <token>`` (its labels name
    tenants: set it on a shared deployment)."""

    quota_runs_per_minute: int = 600_000
    """Runs a tenant may start per minute (tenants.quotas may override each quota)."""
    quota_max_queued: int = 1_000_000
    quota_max_workflows: int = 1_000
    quota_max_webhook_endpoints: int = 1_000
    quota_max_alert_channels: int = 100
    quota_max_payload_bytes: int = 512 * 1024

    run_loops: bool = True
    """Run the background loops in this process (tests of a single loop turn them off)."""

    frontend_dist: Path | None = None
    """Built SPA folder. Absent: ``frontend/dist`` next to the source tree, if it exists."""

    # Plugins and alerting (docs/plugins.md, docs/alerts.md)
    plugins: Annotated[list[str] | None, NoDecode] = None
    """Comma-separated allow-list of third-party plugin entry-point names (group ``kiln``) to load.
    Absent: every discovered one. Built-ins are always loaded."""

    plugin_hook_timeout_seconds: float = 5.0
    """How long one plugin hook call may take before it is abandoned and logged."""

    allow_private_egress: bool = False
    """Let outgoing requests (alert webhooks, Slack, plugins) reach loopback/private addresses.
    Off by default (SSRF guard); turn on only for self-hosted setups alerting internal hosts."""

    smtp_host: str | None = None
    """SMTP server for e-mail alert channels. Absent: e-mail channels cannot send."""
    smtp_port: int = 587
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_from: str = "kiln@localhost"
    smtp_starttls: bool = True
    """Upgrade the SMTP connection with STARTTLS (required when the server offers it)."""

    alert_timeout_seconds: float = 10.0
    """Timeout of one alert delivery attempt (connect + send + response)."""
    alert_max_response_bytes: int = 65_536
    """Responses of alert receivers larger than this are cut off and count as failures."""
    alert_group_window_seconds: float = 300.0
    """Failures of one workflow to one channel are grouped into one message per window."""

    @field_validator("previous_secret_keys", "cors_origins", "plugins", mode="before")
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
        if not path.exists() or not path.read_text().strip():
            # Written aside and renamed into place: a crash can never leave an empty key behind
            # (an empty HMAC key would sign sessions anyone could forge).
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_name(f".secret_key.{os.getpid()}")
            descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(descriptor, "w") as file:
                file.write(secrets.token_urlsafe(48))
            partial.replace(path)
        self.secret_key = path.read_text().strip()
        return self.secret_key


def load_settings(**overrides: object) -> Settings:
    """Read settings from the environment; keyword overrides win (the CLI and tests use them)."""
    return Settings(**overrides)  # type: ignore[arg-type]

"""What hooks receive and return: the public, stable objects of the plugin API.

Plugins may import from here (and from :mod:`app.hooks`, :mod:`app.core.egress`); everything
else in ``app`` is internal.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from app.core.egress import Egress


def _parse_at(value: object) -> dt.datetime:
    if isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
        except ValueError:
            pass
    return dt.datetime.now(dt.UTC)


def _str_or_none(value: object) -> str | None:
    return None if value is None else str(value)


@dataclass(frozen=True, slots=True)
class LifecycleEvent:
    """One committed state change, read from the outbox (``on_*`` hooks receive it).

    ``event`` is the outbox name (``run.failed``, ``task.retrying`` …). Task fields are set for
    ``task.*`` events, worker fields for ``worker.lost``. ``payload`` is the raw outbox payload,
    for fields a newer engine adds before this class names them.
    """

    event: str
    tenant_id: uuid.UUID
    at: dt.datetime
    run_id: str | None = None
    workflow: str | None = None
    status: str | None = None
    task: str | None = None
    task_run_id: str | None = None
    attempt: int | None = None
    error: str | None = None
    worker_id: str | None = None
    worker_name: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    run_url: str | None = None
    """Link to the run in the dashboard (``run_url_for_event`` may change it)."""
    outbox_id: int = 0
    payload: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_outbox(
        cls, tenant_id: uuid.UUID, outbox_id: int, event: str, payload: Mapping[str, Any],
        run_url: str | None = None,
    ) -> LifecycleEvent:
        attempt = payload.get("attempt")
        metadata = payload.get("metadata")
        return cls(
            event=event, tenant_id=tenant_id, at=_parse_at(payload.get("at")),
            run_id=_str_or_none(payload.get("run_id")),
            workflow=_str_or_none(payload.get("workflow")),
            status=_str_or_none(payload.get("status")), task=_str_or_none(payload.get("task")),
            task_run_id=_str_or_none(payload.get("task_run_id")),
            attempt=attempt if isinstance(attempt, int) else None,
            error=_str_or_none(payload.get("error")),
            worker_id=_str_or_none(payload.get("worker_id")),
            worker_name=_str_or_none(payload.get("worker_name")),
            metadata=metadata if isinstance(metadata, dict) else {},
            run_url=run_url, outbox_id=outbox_id, payload=dict(payload),
        )


@dataclass(frozen=True, slots=True)
class GroupedRun:
    """One of the events folded into a grouped alert."""

    run_id: str | None
    run_url: str | None
    at: str
    error: str | None = None
    task: str | None = None


@dataclass(frozen=True, slots=True)
class Alert:
    """What an alert channel sends: one event, or a group of failures of one workflow.

    ``count`` is how many events the alert stands for (1 unless grouped); ``runs`` lists up to
    20 of them, oldest first. ``test`` is true for ``POST /alerts/channels/{id}/test``.
    """

    event: str
    tenant_id: uuid.UUID
    at: dt.datetime
    delivery_id: str
    webhook_id: str
    """Stable across the retries of one delivery: receivers deduplicate on it."""
    workflow: str | None = None
    status: str | None = None
    run_id: str | None = None
    run_url: str | None = None
    task: str | None = None
    attempt: int | None = None
    error: str | None = None
    worker_name: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    count: int = 1
    runs: tuple[GroupedRun, ...] = ()
    test: bool = False

    def to_json(self) -> dict[str, Any]:
        """The JSON body a webhook receiver gets under ``data``."""
        return {
            "event": self.event, "workflow": self.workflow, "status": self.status,
            "run_id": self.run_id, "run_url": self.run_url, "task": self.task,
            "attempt": self.attempt, "error": self.error, "worker_name": self.worker_name,
            "metadata": dict(self.metadata), "at": self.at.isoformat(), "count": self.count,
            "runs": [
                {"run_id": r.run_id, "run_url": r.run_url, "at": r.at, "error": r.error,
                 "task": r.task}
                for r in self.runs
            ],
            "test": self.test,
        }


@dataclass(frozen=True, slots=True)
class AlertMessage:
    """Human-readable text of an alert: ``title`` (subject line), ``text`` (plain text, may use
    Slack-style ``<url|label>`` links only if the channel is Slack) and optional ``html``."""

    title: str
    text: str
    html: str | None = None


@dataclass(frozen=True, slots=True)
class SmtpConfig:
    """The deployment's SMTP server (``KILN_SMTP_*``); ``host`` None means not configured."""

    host: str | None
    port: int = 587
    username: str | None = None
    password: str | None = None
    sender: str = "kiln@localhost"
    starttls: bool = True


@dataclass(frozen=True, slots=True)
class DeliveryContext:
    """Everything :meth:`AlertChannelType.send` needs for one attempt."""

    alert: Alert
    message: AlertMessage
    config: Mapping[str, Any]
    """The channel's config, secrets decrypted."""
    egress: Egress
    """The SSRF-safe HTTP client: use it for every outgoing request."""
    smtp: SmtpConfig
    attempt: int
    deadline: float
    """Seconds this attempt may take."""


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    """A successful attempt: what the receiver said, for the deliveries log."""

    status_code: int | None = None
    detail: str | None = None


class DeliveryFailed(Exception):
    """Raised by :meth:`AlertChannelType.send` when an attempt failed.

    ``retry_after`` (seconds, e.g. from a ``Retry-After`` header) delays the next attempt at
    least that long; ``gone`` says the destination no longer exists (HTTP 410): the channel is
    disabled at once.
    """

    def __init__(
        self, message: str, *, status_code: int | None = None, retry_after: float | None = None,
        gone: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.retry_after = retry_after
        self.gone = gone


@runtime_checkable
class AlertChannelType(Protocol):
    """A kind of alert destination (``register_alert_channels`` returns these).

    ``config_schema`` is a JSON Schema (type ``object``) the dashboard renders a form from and
    the API validates configs against. Properties marked ``"writeOnly": true`` are secrets: they
    are stored encrypted and never returned by the API.
    """

    type: str
    title: str
    description: str
    config_schema: Mapping[str, Any]

    async def send(self, context: DeliveryContext) -> DeliveryResult:
        """Deliver one alert; raise :class:`DeliveryFailed` to have it retried."""
        ...


@dataclass(frozen=True, slots=True)
class RateLimitDecision:
    """Outcome of one :meth:`RateLimitStrategy.decide`: ``allowed``; when not, ``retry_after``
    seconds until a retry may pass; ``remaining`` units left in the window, if known."""

    allowed: bool
    retry_after: float = 0.0
    remaining: int | None = None


@runtime_checkable
class RateLimitStrategy(Protocol):
    """A rate-limiting algorithm (``register_rate_limit_strategies`` returns these).

    Strategies are pure functions of stored state so the server can keep the state in Postgres
    (one row per limit key, locked while deciding) and run any number of replicas.
    """

    name: str
    """Stable identifier used in limit definitions, e.g. ``token-bucket``."""
    title: str
    config_schema: Mapping[str, Any]
    """JSON Schema of a limit's parameters: ``limit`` and ``window_seconds`` (every limit has
    them) plus the strategy's own settings, e.g. ``{"burst": 1}``."""

    def decide(
        self, config: Mapping[str, Any], state: Mapping[str, Any] | None, now: float, cost: int
    ) -> tuple[RateLimitDecision, dict[str, Any]]:
        """Decide whether ``cost`` units may pass at ``now`` (Unix seconds, the database's
        clock at the claim; it may be slightly older than the last call's) given the stored
        ``state`` (None the first time) and ``config`` (``limit``, ``window_seconds`` and the
        limit's own settings); return the decision and the new JSON-serialisable state to store.
        ``cost`` 0 only reads the usage. Must not block or do I/O."""
        ...


@dataclass(frozen=True, slots=True)
class VerificationResult:
    """``ok`` when the request is authentic; otherwise ``reason`` (logged, never sent back)."""

    ok: bool
    reason: str | None = None


@runtime_checkable
class WebhookVerifier(Protocol):
    """Authenticates inbound webhook requests (``register_webhook_verifiers`` returns these).

    ``name`` is what ``POST /api/v1/webhooks`` takes as ``verifier`` (``standard-webhooks``,
    ``github``, ``stripe``, ``hmac-sha256``, ``api-key``, ``basic`` are the built-in names).
    """

    name: str
    title: str
    config_schema: Mapping[str, Any]
    """JSON Schema of extra settings (header names, tolerance …); ``{}`` when none."""

    def generate_secret(self) -> str | None:
        """A fresh secret for a new webhook when the caller gave none, or None when this
        verifier needs the caller's own secret (or none at all)."""
        ...

    def verify(
        self, *, headers: Mapping[str, str], body: bytes, secret: str | None,
        config: Mapping[str, Any], now: float,
    ) -> VerificationResult:
        """Check one request: ``headers`` lower-cased, ``body`` the exact bytes received,
        ``now`` Unix seconds (for timestamp tolerance). Must be constant-time on secrets and
        must not do I/O."""
        ...

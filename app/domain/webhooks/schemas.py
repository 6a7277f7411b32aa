"""Webhooks as the API takes and shows them."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any

import msgspec

from app.domain.events.schemas import Key

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
Secret = Annotated[str, msgspec.Meta(min_length=8, max_length=500)]
Expression = Annotated[str, msgspec.Meta(
    min_length=1, max_length=2000,
    description="CEL over body (parsed JSON) and headers (lower-cased) giving the event key")]
Config = Annotated[dict[str, Any], msgspec.Meta(max_length=50)]
MAX_GRACE_SECONDS = 7 * 86400


class WebhookCreate(msgspec.Struct, forbid_unknown_fields=True):
    name: Name
    event_key: Key
    """The key of the events this webhook creates (unless ``key_expression`` gives one)."""
    verifier: Name
    """standard-webhooks, github, stripe, hmac-sha256, api-key, basic, or a plugin's."""
    secret: Secret | None = None
    """Generated when left out (shown once, in this response)."""
    config: Config = msgspec.field(default_factory=dict)
    """The verifier's settings (see ``GET /api/v1/webhooks/verifiers``)."""
    key_expression: Expression | None = None
    enabled: bool = True


class WebhookUpdate(msgspec.Struct, forbid_unknown_fields=True):
    name: Name | msgspec.UnsetType = msgspec.UNSET
    event_key: Key | msgspec.UnsetType = msgspec.UNSET
    key_expression: Expression | msgspec.UnsetType | None = msgspec.UNSET
    config: Config | msgspec.UnsetType = msgspec.UNSET
    enabled: bool | msgspec.UnsetType = msgspec.UNSET


class Webhook(msgspec.Struct):
    id: uuid.UUID
    name: str
    url: str
    """Where the sender POSTs: ``<public URL>/hooks/<id>``."""
    event_key: str
    key_expression: str | None
    verifier: str
    config: dict[str, Any]
    enabled: bool
    has_secret: bool
    previous_secret_expires_at: dt.datetime | None
    """Until then the secret before the last rotation is accepted too."""
    failed_verifications: int
    """Requests refused (bad or missing signature, stale timestamp, replay) since creation."""
    last_failure_at: dt.datetime | None
    last_failure_reason: str | None
    last_delivery_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime


class WebhookCreated(Webhook):
    secret: str | None = None
    """The signing secret: shown here only, never again."""


class SecretRotate(msgspec.Struct, forbid_unknown_fields=True):
    secret: Secret | None = None
    """The new secret; generated when left out."""
    keep_previous_seconds: Annotated[int, msgspec.Meta(ge=0, le=MAX_GRACE_SECONDS)] = 0
    """How long the old secret keeps working, while the sender is updated."""


class SecretRotated(msgspec.Struct):
    id: uuid.UUID
    secret: str
    previous_secret_expires_at: dt.datetime | None


class Delivery(msgspec.Struct):
    id: uuid.UUID
    delivery_id: str
    sender_delivery_id: bool
    """False when the sender sent no delivery id (one was generated; no replay check)."""
    event_id: uuid.UUID
    event_key: str
    run_count: int
    body_bytes: int
    note: str | None
    received_at: dt.datetime


class Verifier(msgspec.Struct):
    name: str
    title: str
    config_schema: dict[str, Any]


class VerifierList(msgspec.Struct):
    items: list[Verifier]


class Accepted(msgspec.Struct):
    event_id: uuid.UUID

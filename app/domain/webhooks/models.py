"""ORM mapping of the webhook tables (migration 0004 is the source of truth)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.db.models.base import Base, TenantOwned


class Webhook(TenantOwned, Base):
    __tablename__ = "webhooks"

    name: Mapped[str]
    event_key: Mapped[str]
    key_expression: Mapped[str | None]
    verifier: Mapped[str]
    config: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    secret: Mapped[str | None]
    """Sealed with :class:`app.core.crypto.SecretBox`; never returned."""
    previous_secret: Mapped[str | None]
    previous_secret_expires_at: Mapped[dt.datetime | None]
    enabled: Mapped[bool] = mapped_column(default=True)
    failed_verifications: Mapped[int] = mapped_column(default=0)
    last_failure_at: Mapped[dt.datetime | None]
    last_failure_reason: Mapped[str | None]
    created_by: Mapped[uuid.UUID | None]
    updated_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())


class WebhookDelivery(Base):
    __tablename__ = "webhook_deliveries"

    tenant_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    webhook_id: Mapped[uuid.UUID]
    delivery_id: Mapped[str]
    sender_delivery_id: Mapped[bool]
    event_id: Mapped[uuid.UUID]
    event_key: Mapped[str]
    run_count: Mapped[int]
    body_bytes: Mapped[int]
    note: Mapped[str | None]
    received_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())

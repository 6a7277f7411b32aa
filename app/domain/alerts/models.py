"""ORM mapping of the alert tables (migration 0003 is the source of truth)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import Text, func
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.core.ids import uuid7
from app.db.models.base import Base, TenantOwned


class AlertChannel(TenantOwned, Base):
    __tablename__ = "alert_channels"

    type: Mapped[str]
    name: Mapped[str]
    config: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    secrets: Mapped[str | None]
    secret_fields: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list)
    events: Mapped[list[str]] = mapped_column(ARRAY(Text))
    filters: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    enabled: Mapped[bool] = mapped_column(default=True)
    disabled_reason: Mapped[str | None]
    consecutive_failures: Mapped[int] = mapped_column(default=0)
    failing_since: Mapped[dt.datetime | None]
    last_success_at: Mapped[dt.datetime | None]
    created_by: Mapped[uuid.UUID | None]
    updated_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())


class AlertDelivery(TenantOwned, Base):
    __tablename__ = "alert_deliveries"

    channel_id: Mapped[uuid.UUID]
    webhook_id: Mapped[str]
    event: Mapped[str]
    group_key: Mapped[str | None]
    event_count: Mapped[int] = mapped_column(default=1)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    status: Mapped[str] = mapped_column(default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    due_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
    next_attempt_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
    last_error: Mapped[str | None]
    finished_at: Mapped[dt.datetime | None]


class AlertAttempt(Base):
    __tablename__ = "alert_attempts"

    tenant_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    delivery_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    attempt: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[dt.datetime]
    finished_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
    succeeded: Mapped[bool]
    status_code: Mapped[int | None]
    detail: Mapped[str | None]


def new_webhook_id() -> str:
    """``msg_`` + a UUIDv7 in hex: unique, time-ordered, the same for every retry."""
    return f"msg_{uuid7().hex}"

"""ORM mapping of the event tables (migration 0004 is the source of truth)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Computed
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.db.models.base import Base, TenantOwned


class Event(TenantOwned, Base):
    __tablename__ = "events"

    key: Mapped[str]
    payload: Mapped[Any] = mapped_column(JSONB)
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", JSONB, default=dict)
    source: Mapped[str]
    webhook_id: Mapped[uuid.UUID | None]
    run_ids: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(UUID(as_uuid=True)), default=list)


class EventSubscription(Base):
    """One ``on_events`` pattern of a workflow's latest version."""

    __tablename__ = "event_subscriptions"

    tenant_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    workflow_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    pattern: Mapped[str] = mapped_column(primary_key=True)
    wildcard: Mapped[bool] = mapped_column(Computed("position('*' in pattern) > 0"))
    filter: Mapped[str | None]

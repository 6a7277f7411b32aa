"""ORM mapping of the rate-limit tables (migration 0005 is the source of truth). The claim path
never goes through these: it locks the rows with the named SQL of ``app/engine/sql/flow.sql``."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.db.models.base import Base


class RateLimit(Base):
    __tablename__ = "rate_limits"

    tenant_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(primary_key=True)
    source: Mapped[str]
    limit: Mapped[int | None] = mapped_column("limit")
    window_seconds: Mapped[float | None]
    strategy: Mapped[str | None]
    config: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    state: Mapped[Any | None] = mapped_column(JSONB)
    created_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())


class RateLimitSettings(Base):
    __tablename__ = "rate_limit_settings"

    tenant_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    default_strategy: Mapped[str]
    updated_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())

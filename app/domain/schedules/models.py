"""ORM mapping of the cron and schedule tables (migration 0004 is the source of truth)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.db.models.base import Base, TenantOwned


class Cron(TenantOwned, Base):
    __tablename__ = "crons"

    workflow_id: Mapped[uuid.UUID]
    workflow_name: Mapped[str]
    source: Mapped[str]
    expression: Mapped[str]
    timezone: Mapped[str] = mapped_column(default="UTC")
    input: Mapped[Any] = mapped_column(JSONB, default=dict)
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", JSONB, default=dict)
    missed: Mapped[str] = mapped_column(default="run_once")
    enabled: Mapped[bool] = mapped_column(default=True)
    next_fire_at: Mapped[dt.datetime | None]
    last_fired_at: Mapped[dt.datetime | None]
    last_run_id: Mapped[uuid.UUID | None]
    last_error: Mapped[str | None]
    fire_count: Mapped[int] = mapped_column(default=0)
    created_by: Mapped[uuid.UUID | None]
    updated_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())


class Schedule(TenantOwned, Base):
    __tablename__ = "schedules"

    workflow_id: Mapped[uuid.UUID]
    workflow_name: Mapped[str]
    fire_at: Mapped[dt.datetime]
    input: Mapped[Any] = mapped_column(JSONB, default=dict)
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", JSONB, default=dict)
    status: Mapped[str] = mapped_column(default="pending")
    run_id: Mapped[uuid.UUID | None]
    error: Mapped[str | None]
    fired_at: Mapped[dt.datetime | None]
    created_by: Mapped[uuid.UUID | None]
    updated_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())

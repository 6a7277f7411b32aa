"""ORM mapping of the flow-control tables the engine writes (migration 0005 is the source of
truth); the API only reads them, the hot path uses ``app/engine/sql/flow.sql``."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import BigInteger, Identity, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.db.models.base import Base


class FlowQueueItem(Base):
    __tablename__ = "flow_queue"

    tenant_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    action: Mapped[str]
    group_key: Mapped[str]
    rank: Mapped[dt.datetime]
    task_run_id: Mapped[uuid.UUID]
    run_id: Mapped[uuid.UUID]
    flow: Mapped[dict[str, Any]] = mapped_column(JSONB)
    enqueued_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())


class ConcurrencyHold(Base):
    __tablename__ = "concurrency_holds"

    tenant_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(primary_key=True)
    holder_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    run_id: Mapped[uuid.UUID]
    scope: Mapped[str]
    strategy: Mapped[str]
    acquired_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())

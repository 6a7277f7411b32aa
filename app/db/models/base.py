from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import DateTime, func
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from app.core.ids import uuid7


class Base(DeclarativeBase):
    type_annotation_map = {dt.datetime: DateTime(timezone=True), uuid.UUID: UUID(as_uuid=True)}


class TenantOwned:
    """Mixin: ``tenant_id`` leads the primary key (composite keys, ready for distribution)."""

    tenant_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    created_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())


def tenant_tables() -> list[str]:
    """Every mapped table that carries a ``tenant_id`` column."""
    return sorted(
        table.name for table in Base.metadata.sorted_tables if "tenant_id" in table.columns
    )

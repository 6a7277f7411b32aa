"""Mappings of the engine's tables for the API's reads and admin writes.

The hot path (trigger, claim, results, sweeps) never goes through these: it runs the named SQL
of ``app/engine/sql`` on the raw pool.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import BigInteger, Identity, Text, func
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.db.models.base import Base, TenantOwned


class Workflow(TenantOwned, Base):
    __tablename__ = "workflows"

    name: Mapped[str]
    latest_version: Mapped[int]
    updated_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())


class WorkflowVersion(TenantOwned, Base):
    __tablename__ = "workflow_versions"

    workflow_id: Mapped[uuid.UUID]
    version: Mapped[int]
    checksum: Mapped[str]
    definition: Mapped[dict[str, Any]] = mapped_column(JSONB)


class WorkflowRun(TenantOwned, Base):
    __tablename__ = "workflow_runs"

    workflow_id: Mapped[uuid.UUID]
    version_id: Mapped[uuid.UUID]
    workflow_name: Mapped[str]
    status: Mapped[str]
    input: Mapped[Any] = mapped_column(JSONB)
    output: Mapped[Any | None] = mapped_column(JSONB)
    error: Mapped[str | None]
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", JSONB)
    priority: Mapped[int]
    pending_tasks: Mapped[int]
    idempotency_key: Mapped[str | None]
    parent_run_id: Mapped[uuid.UUID | None]
    parent_task_run_id: Mapped[uuid.UUID | None]
    child_key: Mapped[str | None]
    started_at: Mapped[dt.datetime | None]
    finished_at: Mapped[dt.datetime | None]


class TaskRun(Base):
    __tablename__ = "task_runs"

    tenant_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    run_id: Mapped[uuid.UUID]
    task_name: Mapped[str]
    action: Mapped[str]
    status: Mapped[str]
    attempt: Mapped[int]
    max_attempts: Mapped[int]
    pending_parents: Mapped[int]
    priority: Mapped[int]
    worker_id: Mapped[uuid.UUID | None]
    lease_id: Mapped[uuid.UUID | None]
    lease_expires_at: Mapped[dt.datetime | None]
    retry_at: Mapped[dt.datetime | None]
    wait_reason: Mapped[str | None]
    output: Mapped[Any | None] = mapped_column(JSONB)
    error: Mapped[str | None]
    queued_at: Mapped[dt.datetime | None]
    started_at: Mapped[dt.datetime | None]
    finished_at: Mapped[dt.datetime | None]


class TaskAttempt(Base):
    __tablename__ = "task_attempts"

    tenant_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    task_run_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    attempt: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[uuid.UUID]
    worker_id: Mapped[uuid.UUID | None]
    status: Mapped[str]
    started_at: Mapped[dt.datetime]
    finished_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
    error: Mapped[str | None]
    traceback: Mapped[str | None]


class Worker(Base):
    __tablename__ = "workers"

    tenant_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    name: Mapped[str]
    actions: Mapped[list[str]] = mapped_column(ARRAY(Text))
    slots: Mapped[int]
    labels: Mapped[dict[str, Any]] = mapped_column(JSONB)
    status: Mapped[str]
    registered_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
    last_heartbeat_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
    stopped_at: Mapped[dt.datetime | None]


class TaskLog(Base):
    __tablename__ = "task_logs"

    tenant_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    task_run_id: Mapped[uuid.UUID]
    run_id: Mapped[uuid.UUID]
    attempt: Mapped[int]
    at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
    level: Mapped[str]
    message: Mapped[str]


class QueueItem(Base):
    __tablename__ = "queue_items"

    tenant_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    action: Mapped[str]
    priority: Mapped[int]
    task_run_id: Mapped[uuid.UUID]


class OutboxEvent(Base):
    __tablename__ = "outbox"

    tenant_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    event: Mapped[str]
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())

"""ORM models of the tables the API reads and writes through SQLAlchemy.

The migrations are the source of truth for the schema (and hold the RLS policies); these classes
only map it. ``tenant_tables()`` feeds the generated isolation tests.
"""

from __future__ import annotations

from app.db.models.base import Base, tenant_tables
from app.db.models.engine import (
    OutboxEvent,
    QueueItem,
    TaskAttempt,
    TaskLog,
    TaskRun,
    Worker,
    Workflow,
    WorkflowRun,
    WorkflowVersion,
)
from app.db.models.identity import (
    ApiKey,
    AuditEntry,
    Invite,
    Membership,
    Session,
    Tenant,
    TenantUsage,
    User,
)

__all__ = [
    "ApiKey",
    "AuditEntry",
    "Base",
    "Invite",
    "Membership",
    "OutboxEvent",
    "QueueItem",
    "Session",
    "TaskAttempt",
    "TaskLog",
    "TaskRun",
    "Tenant",
    "TenantUsage",
    "User",
    "Worker",
    "Workflow",
    "WorkflowRun",
    "WorkflowVersion",
    "tenant_tables",
]

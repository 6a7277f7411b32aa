"""Keeping ``event_subscriptions`` in step with each workflow's latest version.

Called by workflow registration (``app.domain.workflows.services.register``) inside its
transaction, so a new version's ``on_events`` and ``event_filter`` apply from its commit on.
"""

from __future__ import annotations

import uuid

from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.events import matching
from app.domain.events.models import EventSubscription
from app.domain.workflows.schemas import WorkflowDefinition


def validate(definition: WorkflowDefinition) -> None:
    """Raise :class:`Invalid` for a bad pattern in ``on_events`` or a bad ``event_filter``."""
    for pattern in definition.on_events:
        matching.check_pattern(pattern)
    if definition.event_filter is not None:
        matching.check_filter(definition.event_filter)


async def sync(
    session: AsyncSession, tenant_id: uuid.UUID, workflow_id: uuid.UUID,
    definition: WorkflowDefinition,
) -> None:
    patterns = sorted(set(definition.on_events))
    await session.execute(delete(EventSubscription).where(
        EventSubscription.tenant_id == tenant_id,
        EventSubscription.workflow_id == workflow_id,
        EventSubscription.pattern.not_in(patterns),
    ))
    if not patterns:
        return
    statement = insert(EventSubscription).values([
        {"tenant_id": tenant_id, "workflow_id": workflow_id, "pattern": pattern,
         "filter": definition.event_filter}
        for pattern in patterns
    ])
    await session.execute(statement.on_conflict_do_update(
        index_elements=["tenant_id", "workflow_id", "pattern"],
        set_={"filter": statement.excluded.filter},
    ))

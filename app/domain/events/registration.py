"""What workflow registration calls so a version's triggers take effect with it.

``validate`` runs before the registration transaction (bad ``on_events`` patterns, a bad
``event_filter`` or ``on_crons`` expression answer 422 naming it); ``sync`` runs inside it when
the registered version is the latest, so event subscriptions and ``on_crons`` always follow the
latest version. Re-registering the latest version syncs again (idempotent), which also picks up
workflows registered before the triggers existed.
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.events import subscriptions
from app.domain.schedules import sync as cron_sync
from app.domain.workflows.schemas import WorkflowDefinition


def validate(definition: WorkflowDefinition) -> None:
    subscriptions.validate(definition)
    cron_sync.validate(definition)


async def sync(
    session: AsyncSession, tenant_id: uuid.UUID, workflow_id: uuid.UUID,
    definition: WorkflowDefinition,
) -> None:
    await subscriptions.sync(session, tenant_id, workflow_id, definition)
    await cron_sync.sync(session, tenant_id, workflow_id, definition)

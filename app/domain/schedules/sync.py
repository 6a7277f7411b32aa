"""Keeping the crons of a workflow's ``on_crons`` in step with its latest version.

Called by workflow registration inside its transaction. Crons that stay keep their next fire
time (re-registering does not skip or repeat a tick); new ones fire from their next tick after
now; removed ones are deleted. ``on_crons`` run in UTC with an empty input (create a cron with
``POST /api/v1/crons`` for a time zone, an input or metadata).
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import delete, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.ids import uuid7
from app.domain.schedules import cron
from app.domain.schedules.models import Cron
from app.domain.schedules.wakeup import timers_changed
from app.domain.workflows.schemas import WorkflowDefinition


def validate(definition: WorkflowDefinition) -> list[str]:
    """The normalised ``on_crons`` expressions; :class:`Invalid` names a bad one."""
    return sorted({cron.validate(expression) for expression in definition.on_crons})


async def sync(
    session: AsyncSession, tenant_id: uuid.UUID, workflow_id: uuid.UUID,
    definition: WorkflowDefinition,
) -> None:
    expressions = validate(definition)
    await session.execute(delete(Cron).where(
        Cron.tenant_id == tenant_id, Cron.workflow_id == workflow_id, Cron.source == "workflow",
        Cron.expression.not_in(expressions),
    ))
    if not expressions:
        return
    now = dt.datetime.now(dt.UTC)
    await session.execute(insert(Cron).values([
        {"tenant_id": tenant_id, "id": uuid7(), "workflow_id": workflow_id,
         "workflow_name": definition.name, "source": "workflow", "expression": expression,
         "timezone": "UTC", "next_fire_at": cron.next_after(expression, "UTC", now)}
        for expression in expressions
    ]).on_conflict_do_nothing(
        index_elements=["tenant_id", "workflow_id", "expression"],
        index_where=text("source = 'workflow'"),
    ))
    await timers_changed(session)

"""Registering workflow definitions (versioned by checksum) and reading them back."""

from __future__ import annotations

from typing import Any

import msgspec
from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert

from app.core import pagination
from app.core.errors import NotFound
from app.core.ids import uuid7
from app.db.database import Database
from app.db.models import Workflow, WorkflowVersion
from app.domain.auth.principal import Principal
from app.domain.events import registration as triggers
from app.domain.quotas.services import Quotas
from app.domain.workflows import schemas, validation


async def register(
    db: Database, principal: Principal, definition: schemas.WorkflowDefinition, quotas: Quotas,
) -> schemas.Registered:
    """Store ``definition`` as a new version unless an identical one exists.

    The highest version stays the one triggers use: re-registering an older checksum (an old
    worker still running during a deploy) returns that version without making it current.
    """
    validation.validate(definition)
    triggers.validate(definition)  # on_events patterns, event_filter, on_crons (issue 6)
    checksum = validation.checksum(definition)
    tenant_id = principal.tenant_id
    async with db.transaction(principal.tenancy()) as s:
        known = await s.execute(select(Workflow.id).where(Workflow.name == definition.name))
        if known.first() is None:  # a new name counts against the quota, re-registering does not
            await quotas.admit_one_more(s, tenant_id, "max_workflows", Workflow, "workflows",
                                        remedy="ask the operator to raise the quota")
        await s.execute(insert(Workflow).values(
            tenant_id=tenant_id, id=uuid7(), name=definition.name, latest_version=0,
        ).on_conflict_do_nothing(index_elements=["tenant_id", "name"]))
        workflow = (await s.execute(
            select(Workflow).where(Workflow.name == definition.name).with_for_update()
        )).scalar_one()
        existing = (await s.execute(select(WorkflowVersion).where(
            WorkflowVersion.workflow_id == workflow.id, WorkflowVersion.checksum == checksum,
        ))).scalar_one_or_none()
        if existing is not None:
            if existing.version == workflow.latest_version:  # triggers follow the latest only
                await triggers.sync(s, tenant_id, workflow.id, definition)
            return schemas.Registered(definition.name, existing.version, checksum, created=False)
        version = workflow.latest_version + 1
        s.add(WorkflowVersion(
            tenant_id=tenant_id, id=uuid7(), workflow_id=workflow.id, version=version,
            checksum=checksum, definition=msgspec.to_builtins(definition),
        ))
        await s.execute(update(Workflow).where(Workflow.id == workflow.id).values(
            latest_version=version, updated_at=func.now()))
        await triggers.sync(s, tenant_id, workflow.id, definition)  # event subscriptions, crons
    return schemas.Registered(definition.name, version, checksum, created=True)


def _out(workflow: Workflow, version: WorkflowVersion) -> schemas.Workflow:
    definition = msgspec.convert(version.definition, schemas.WorkflowDefinition)
    return schemas.Workflow(
        name=workflow.name, version=version.version, checksum=version.checksum,
        tasks=[schemas.TaskOut(name=t.name, parents=t.parents, retries=t.retries,
                               execution_timeout=t.execution_timeout) for t in definition.tasks],
        on_events=definition.on_events, on_crons=definition.on_crons,
        description=definition.description, created_at=workflow.created_at,
        updated_at=workflow.updated_at,
    )


def _latest() -> Any:
    return select(Workflow, WorkflowVersion).join(WorkflowVersion, (
        (WorkflowVersion.tenant_id == Workflow.tenant_id)
        & (WorkflowVersion.workflow_id == Workflow.id)
        & (WorkflowVersion.version == Workflow.latest_version)
    ))


async def list_workflows(
    db: Database, principal: Principal, limit: int | None, cursor: str | None
) -> pagination.Page[schemas.Workflow]:
    size = pagination.check_limit(limit)
    after = pagination.decode_cursor(cursor)
    query = _latest().order_by(Workflow.id).limit(size + 1)
    if after is not None:
        query = query.where(Workflow.id > after)
    async with db.transaction(principal.tenancy()) as s:
        rows = (await s.execute(query)).all()
    return pagination.page([_out(w, v) for w, v in rows], [w.id for w, _ in rows], size)


async def get_workflow(db: Database, principal: Principal, name: str) -> schemas.WorkflowDetail:
    async with db.transaction(principal.tenancy()) as s:
        row = (await s.execute(_latest().where(Workflow.name == name))).first()
        if row is None:
            raise NotFound(f"workflow {name!r} not found")
        versions = (await s.execute(
            select(WorkflowVersion).where(WorkflowVersion.workflow_id == row[0].id)
            .order_by(WorkflowVersion.version.desc())
        )).scalars().all()
    base = _out(row[0], row[1])
    return schemas.WorkflowDetail(
        **{f: getattr(base, f) for f in base.__struct_fields__},
        versions=[schemas.VersionOut(v.version, v.checksum, v.created_at) for v in versions],
    )

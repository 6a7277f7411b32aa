"""Reading runs by filter: the runs list, its per-status counts, and bulk selections.

The list and the counts take the same filters, so the dashboard's status chips always add up to
what the list would show for each status.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, func, select

from app.core import pagination
from app.core.errors import Invalid
from app.db.database import Database
from app.db.models import WorkflowRun
from app.domain.auth.principal import Principal
from app.domain.runs import schemas

STATUSES = ("pending", "queued", "running", "succeeded", "failed", "cancelled")


@dataclass(frozen=True)
class RunFilters:
    """What a runs query narrows on; every field is optional (empty: no narrowing)."""

    statuses: tuple[str, ...] = ()
    workflow: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


def parse_statuses(values: list[str] | None) -> tuple[str, ...]:
    """``["failed", "queued,running"]`` → ``("failed", "queued", "running")``; unknown → 422.

    Both repeated parameters and comma lists are accepted; a single ``status=`` is the original
    form and keeps working.
    """
    statuses: dict[str, None] = {}
    for value in values or []:
        for part in value.split(","):
            status = part.strip()
            if not status:
                continue
            if status not in STATUSES:
                raise Invalid(f"status {status!r} is not one of {', '.join(STATUSES)}")
            statuses[status] = None
    return tuple(statuses)


def parse_metadata_filters(values: list[str]) -> dict[str, Any]:
    """``["team:red", "env:prod"]`` → ``{"team": "red", "env": "prod"}``."""
    filters: dict[str, Any] = {}
    for value in values:
        key, sep, wanted = value.partition(":")
        if not sep or not key:
            raise Invalid(f"metadata filter {value!r} must look like key:value")
        filters[key] = wanted
    return filters


def filtered(filters: RunFilters) -> Select[tuple[WorkflowRun]]:
    """``SELECT workflow_runs`` narrowed by ``filters`` (RLS adds the tenant)."""
    query = select(WorkflowRun)
    if filters.statuses:
        query = query.where(WorkflowRun.status.in_(filters.statuses))
    if filters.workflow is not None:
        query = query.where(WorkflowRun.workflow_name == filters.workflow)
    if filters.since is not None:
        query = query.where(WorkflowRun.created_at >= filters.since)
    if filters.until is not None:
        query = query.where(WorkflowRun.created_at < filters.until)
    if filters.metadata:
        query = query.where(WorkflowRun.metadata_.contains(filters.metadata))
    return query


def summary(run: WorkflowRun) -> schemas.RunSummary:
    return schemas.RunSummary(
        id=run.id, workflow=run.workflow_name, status=run.status, created_at=run.created_at,
        started_at=run.started_at, finished_at=run.finished_at, metadata=run.metadata_,
        priority=run.priority, error=run.error, parent_run_id=run.parent_run_id,
    )


async def list_runs(
    db: Database, principal: Principal, filters: RunFilters, limit: int | None,
    cursor: str | None,
) -> pagination.Page[schemas.RunSummary]:
    size = pagination.check_limit(limit)
    after = pagination.decode_cursor(cursor)
    query = filtered(filters).order_by(WorkflowRun.id.desc()).limit(size + 1)
    if after is not None:
        query = query.where(WorkflowRun.id < after)
    async with db.transaction(principal.tenancy()) as s:
        runs = (await s.execute(query)).scalars().all()
    return pagination.page([summary(r) for r in runs], [r.id for r in runs], size)


async def count_runs(
    db: Database, principal: Principal, filters: RunFilters
) -> schemas.RunCounts:
    """Runs per status under ``filters`` (its statuses are ignored: every status is counted)."""
    everything = RunFilters(workflow=filters.workflow, since=filters.since,
                            until=filters.until, metadata=filters.metadata)
    query = (filtered(everything).with_only_columns(WorkflowRun.status, func.count())
             .group_by(WorkflowRun.status))
    async with db.transaction(principal.tenancy()) as s:
        found = dict((await s.execute(query)).tuples().all())
    counts = {status: found.pop(status, 0) for status in STATUSES}
    counts.update(found)  # a status added later still shows up rather than vanishing
    return schemas.RunCounts(counts=counts, total=sum(counts.values()))


async def select_ids(
    db: Database, principal: Principal, selection: schemas.BulkSelection
) -> list[uuid.UUID]:
    """The run ids a bulk action names: explicit ids, or up to 1,000 matching a filter."""
    if (selection.ids is None) == (selection.filter is None):
        raise Invalid("give either ids or filter")
    if selection.ids is not None:
        return list(dict.fromkeys(selection.ids))
    assert selection.filter is not None
    f = selection.filter
    filters = RunFilters(statuses=parse_statuses([f.status] if f.status else None),
                         workflow=f.workflow, since=f.since, until=f.until,
                         metadata=dict(f.metadata))
    query = filtered(filters).with_only_columns(WorkflowRun.id).order_by(
        WorkflowRun.id).limit(schemas.MAX_BULK)
    async with db.transaction(principal.tenancy()) as s:
        return list((await s.execute(query)).scalars())

"""Reading concurrency keys and who holds their slots (the engine writes them)."""

from __future__ import annotations

from sqlalchemy import and_, case, select

from app.core import pagination
from app.core.errors import Invalid
from app.db.database import Database
from app.db.models import TaskRun, WorkflowRun
from app.domain.auth.principal import Principal
from app.domain.flow import schemas
from app.domain.flow.models import ConcurrencyHold


async def list_keys(
    db: Database, principal: Principal, prefix: str | None, limit: int | None,
) -> list[schemas.ConcurrencyKey]:
    """Keys with at least one live holder (a running task, or an unfinished run), by key."""
    size = pagination.check_limit(limit)
    if prefix is not None and not 1 <= len(prefix) <= 255:
        raise Invalid("prefix must be 1 to 255 characters")
    live = case(
        (ConcurrencyHold.scope == "task", TaskRun.status == "running"),
        (ConcurrencyHold.strategy == "GROUP_ROUND_ROBIN", WorkflowRun.status == "running"),
        else_=WorkflowRun.status.in_(("queued", "running")),
    )
    query = (
        select(ConcurrencyHold)
        .outerjoin(TaskRun, and_(ConcurrencyHold.scope == "task",
                                 TaskRun.tenant_id == ConcurrencyHold.tenant_id,
                                 TaskRun.id == ConcurrencyHold.holder_id))
        .join(WorkflowRun, and_(WorkflowRun.tenant_id == ConcurrencyHold.tenant_id,
                                WorkflowRun.id == ConcurrencyHold.run_id))
        .where(live)
        .order_by(ConcurrencyHold.key, ConcurrencyHold.acquired_at)
        .limit(size * 100)
    )
    if prefix is not None:
        escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(ConcurrencyHold.key.like(escaped + "%", escape="\\"))
    async with db.transaction(principal.tenancy()) as s:
        holds = (await s.execute(query)).scalars().all()
    keys: dict[str, schemas.ConcurrencyKey] = {}
    for hold in holds:
        item = keys.get(hold.key)
        if item is None:
            if len(keys) == size:
                break
            value = hold.key.split("=", 1)[1] if "=" in hold.key else ""
            item = keys[hold.key] = schemas.ConcurrencyKey(
                key=hold.key, scope=hold.scope, value=value, strategy=hold.strategy, holders=[])
        item.holders.append(schemas.Holder(
            run_id=hold.run_id, task_run_id=hold.holder_id if hold.scope == "task" else None,
            since=hold.acquired_at))
    return list(keys.values())

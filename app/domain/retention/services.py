"""Reading and setting how long a tenant's finished runs are kept (the retention loop,
``app/engine/retention.py``, removes older ones)."""

from __future__ import annotations

from sqlalchemy import select, update

from app.db.database import Database
from app.db.models import Tenant
from app.domain.audit import services as audit
from app.domain.auth.principal import Principal
from app.domain.retention import schemas


def _shown(days: float) -> schemas.Retention:
    # The column is a real: 0.1 comes back as 0.10000000149011612.
    return schemas.Retention(run_retention_days=float(f"{days:.6g}"))


async def get(db: Database, principal: Principal) -> schemas.Retention:
    async with db.transaction(principal.tenancy()) as s:
        days = await s.scalar(select(Tenant.run_retention_days)
                              .where(Tenant.id == principal.tenant_id))
    assert days is not None  # the caller's own tenant
    return _shown(days)


async def put(
    db: Database, principal: Principal, body: schemas.RetentionPut, ip: str | None
) -> schemas.Retention:
    async with db.transaction(principal.tenancy()) as s:
        days = await s.scalar(
            update(Tenant).where(Tenant.id == principal.tenant_id)
            .values(run_retention_days=body.run_retention_days)
            .returning(Tenant.run_retention_days))
        audit.record(s, tenant_id=principal.tenant_id, action="retention.set", actor=principal,
                     target_type="tenant", target_id=principal.tenant_id,
                     details={"run_retention_days": body.run_retention_days}, ip=ip)
    assert days is not None
    return _shown(days)

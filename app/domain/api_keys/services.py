"""Issue, list and revoke API keys."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import select, text, update

from app.core import pagination
from app.core.errors import Invalid, NotFound
from app.core.ids import uuid7
from app.db.database import Database
from app.db.models import ApiKey
from app.domain.api_keys import schemas, secrets
from app.domain.audit import services as audit
from app.domain.auth.principal import Principal


def _out(row: ApiKey) -> schemas.ApiKey:
    return schemas.ApiKey(
        id=row.id, name=row.name, prefix=row.prefix, scopes=list(row.scopes),
        created_at=row.created_at, expires_at=row.expires_at, revoked_at=row.revoked_at,
        last_used_at=row.last_used_at, created_by=row.created_by,
    )


async def create(
    db: Database, principal: Principal, body: schemas.ApiKeyCreate, ip: str | None
) -> schemas.ApiKeyCreated:
    if body.expires_at is not None:
        if body.expires_at.tzinfo is None:
            raise Invalid("expires_at needs a timezone (e.g. 2027-01-01T00:00:00Z)")
        if body.expires_at <= dt.datetime.now(dt.UTC):
            raise Invalid("expires_at is in the past")
    key = secrets.generate()
    row = ApiKey(
        tenant_id=principal.tenant_id, id=uuid7(), name=body.name.strip(),
        prefix=secrets.display_prefix(key), key_hash=secrets.digest(key),
        scopes=sorted(set(body.scopes)), created_by=principal.user_id,
        expires_at=body.expires_at,
    )
    async with db.transaction(principal.tenancy()) as s:
        s.add(row)
        await s.flush()
        await s.refresh(row)
        audit.record(s, tenant_id=principal.tenant_id, action="api_key.created", actor=principal,
                     target_type="api_key", target_id=row.id,
                     details={"name": row.name, "scopes": row.scopes}, ip=ip)
    created = _out(row)
    return schemas.ApiKeyCreated(**{f: getattr(created, f) for f in created.__struct_fields__},
                                 key=key)


async def list_keys(
    db: Database, principal: Principal, limit: int | None, cursor: str | None
) -> pagination.Page[schemas.ApiKey]:
    query, size = pagination.keyset(select(ApiKey), ApiKey.id, limit, cursor, newest_first=True)
    async with db.transaction(principal.tenancy()) as s:
        rows = list((await s.execute(query)).scalars())
    return pagination.page([_out(r) for r in rows], [r.id for r in rows], size)


async def revoke(db: Database, principal: Principal, key_id: uuid.UUID, ip: str | None) -> None:
    async with db.transaction(principal.tenancy()) as s:
        result = await s.execute(
            update(ApiKey).where(ApiKey.id == key_id, ApiKey.revoked_at.is_(None))
            .values(revoked_at=text("now()")).returning(ApiKey.id)
        )
        if result.first() is None:
            exists = await s.get(ApiKey, (principal.tenant_id, key_id))
            if exists is None:
                raise NotFound(f"API key {key_id} not found")
            return  # already revoked: DELETE is idempotent
        audit.record(s, tenant_id=principal.tenant_id, action="api_key.revoked", actor=principal,
                     target_type="api_key", target_id=key_id, ip=ip)

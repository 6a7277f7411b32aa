"""Looking up compiled workflow specs by version, loading missing ones from the database."""

from __future__ import annotations

import uuid

import asyncpg

from app.engine import queries
from app.engine.spec import SpecCache, WorkflowSpec


async def spec_for(
    cache: SpecCache, conn: asyncpg.Connection, tenant_id: uuid.UUID, version_id: uuid.UUID
) -> WorkflowSpec:
    spec = cache.get(version_id)
    if spec is None:
        definition = await conn.fetchval(
            queries.get("version_definition"), tenant_id, version_id
        )
        if definition is None:
            raise LookupError(f"workflow version {version_id} not found")
        spec = cache.add(version_id, definition)
    return spec

"""SQL helpers for assertions: act as a tenant on a ``kiln_authenticator`` connection exactly as
the server does, and count what the database holds."""

from __future__ import annotations

from typing import Any

import asyncpg

SWITCH = "select set_config('role', 'kiln_tenant', true), set_config('app.tenant_id', $1, true)"


async def as_tenant(
    connection: asyncpg.Connection, tenant_id: str, method: str, query: str, *args: Any
) -> Any:
    """Run one statement as ``tenant_id`` (role ``kiln_tenant``) in a transaction that is always
    rolled back, so checks never change the data they look at. ``method`` is an asyncpg
    connection method: ``fetch``, ``fetchval`` or ``execute``."""
    transaction = connection.transaction()
    await transaction.start()
    try:
        await connection.execute(SWITCH, tenant_id)
        return await getattr(connection, method)(query, *args)
    finally:
        await transaction.rollback()


async def user_tables(owner: asyncpg.Connection) -> list[str]:
    """Every ordinary table of the public schema, as ``pg_catalog`` lists it."""
    rows = await owner.fetch(
        "select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace"
        " where n.nspname = 'public' and c.relkind in ('r', 'p') and c.relname <> 'alembic_version'"
        " order by 1"
    )
    return [r["relname"] for r in rows]


async def row_counts(owner: asyncpg.Connection) -> dict[str, int]:
    """Row count of every table (as the owner: RLS does not apply to it)."""
    counts = {}
    for table in await user_tables(owner):
        counts[table] = await owner.fetchval(f'select count(*) from "{table}"')
    return counts


async def tenant_tables_in_catalog(owner: asyncpg.Connection) -> list[str]:
    """Every table of the public schema with a ``tenant_id`` column, from ``pg_catalog``."""
    rows = await owner.fetch(
        "select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace"
        " join pg_attribute a on a.attrelid = c.oid and a.attname = 'tenant_id'"
        " and not a.attisdropped"
        " where n.nspname = 'public' and c.relkind in ('r', 'p') order by 1"
    )
    return [r["relname"] for r in rows]

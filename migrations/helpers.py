"""DDL building blocks shared by migration versions.

Frozen once a version uses them: a later change of meaning would silently change history. Add a
new helper instead of editing one.
"""

from __future__ import annotations

from alembic import op
from sqlalchemy.util import await_only

TENANT = "kiln_tenant"
ENGINE = "kiln_engine"
AUTH = "kiln_auth"


def tenant_table(
    table: str,
    *,
    column: str = "tenant_id",
    tenant_privileges: str = "SELECT, INSERT, UPDATE, DELETE",
    engine_privileges: str | None = None,
) -> None:
    """Enable and force RLS on ``table``: the tenant role sees and writes only rows of
    ``app_current_tenant()``; the engine role, when granted, sees every tenant's rows."""
    op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    op.execute(
        f"CREATE POLICY tenant_isolation ON {table} TO {TENANT}"
        f" USING ({column} = app_current_tenant()) WITH CHECK ({column} = app_current_tenant())"
    )
    op.execute(f"GRANT {tenant_privileges} ON {table} TO {TENANT}")
    if engine_privileges:
        op.execute(
            f"CREATE POLICY engine_all ON {table} TO {ENGINE} USING (true) WITH CHECK (true)"
        )
        op.execute(f"GRANT {engine_privileges} ON {table} TO {ENGINE}")


def auth_readable(table: str) -> None:
    """Let the ``kiln_auth`` role (owner of the SECURITY DEFINER lookup functions) read ``table``
    across tenants — the only way to resolve an API key or a login before a tenant is known."""
    op.execute(f"CREATE POLICY auth_lookup ON {table} TO {AUTH} USING (true)")
    op.execute(f"GRANT SELECT ON {table} TO {AUTH}")


def script(sql: str) -> None:
    """Run a multi-statement SQL script. asyncpg refuses several commands in one prepared
    statement, but its simple-query protocol (``Connection.execute`` without arguments) takes them.
    """
    raw = op.get_bind().connection.driver_connection
    await_only(raw.execute(sql))

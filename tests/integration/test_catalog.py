"""What the migrations leave in ``pg_catalog``: forced RLS with policies on every tenant table, a
pool login role that can do nothing by itself, and a session layer that really switches to the
tenant. Read from the catalog, not from the models, so a table added by raw SQL is covered too."""

from __future__ import annotations

import uuid

import asyncpg
import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from app.db import tenancy, urls
from app.db.database import Database
from app.db.models import ApiKey, tenant_tables
from app.db.tenancy import TenantContext
from tests.support import api, sql
from tests.support.databases import AUTHENTICATOR_PASSWORD

APP_ROLES = ("kiln_authenticator", "kiln_tenant", "kiln_engine", "kiln_auth")


async def _rls_tables(owner_db) -> list[str]:
    return [*await sql.tenant_tables_in_catalog(owner_db), "tenants"]


async def test_every_tenant_table_forces_rls_and_has_a_policy(owner_db):
    tables = await _rls_tables(owner_db)
    assert set(tenant_tables()) <= set(tables), "a model maps a table the migrations lack"
    problems = []
    for table in tables:
        row = await owner_db.fetchrow(
            "select c.relrowsecurity, c.relforcerowsecurity,"
            " (select count(*) from pg_policy p where p.polrelid = c.oid) as policies"
            " from pg_class c where c.oid = $1::regclass", f"public.{table}",
        )
        if not row["relrowsecurity"]:
            problems.append(f"{table}: RLS not enabled")
        if not row["relforcerowsecurity"]:
            problems.append(f"{table}: RLS not forced")
        if row["policies"] == 0:
            problems.append(f"{table}: no policy")
    assert problems == []


async def test_tenant_policies_compare_with_the_current_tenant(owner_db):
    problems = []
    for table in await _rls_tables(owner_db):
        policies = await owner_db.fetch(
            "select policyname, qual, with_check from pg_policies"
            " where schemaname = 'public' and tablename = $1 and 'kiln_tenant' = any(roles)",
            table,
        )
        if not policies:
            problems.append(f"{table}: no policy for kiln_tenant")
        elif not any("app_current_tenant()" in (p["qual"] or "") + (p["with_check"] or "")
                     for p in policies):
            problems.append(f"{table}: no kiln_tenant policy uses app_current_tenant()")
    assert problems == []


async def test_every_table_the_tenant_role_can_touch_is_under_rls(owner_db):
    rows = await owner_db.fetch(
        "select c.relname, c.relrowsecurity, c.relforcerowsecurity from pg_class c"
        " join pg_namespace n on n.oid = c.relnamespace"
        " where n.nspname = 'public' and c.relkind in ('r', 'p')"
        " and (has_table_privilege('kiln_tenant', c.oid, 'SELECT, INSERT, UPDATE, DELETE')"
        "      or has_table_privilege('kiln_engine', c.oid, 'SELECT, INSERT, UPDATE, DELETE'))"
    )
    assert {r["relname"] for r in rows} >= {"api_keys", "users", "tenants"}
    assert [r["relname"] for r in rows if not (r["relrowsecurity"] and r["relforcerowsecurity"])
            ] == []


async def test_application_roles_are_unprivileged(owner_db):
    roles = {r["rolname"]: r for r in await owner_db.fetch(
        "select * from pg_roles where rolname = any($1::text[])", list(APP_ROLES)
    )}

    assert set(roles) == set(APP_ROLES)
    for name, role in roles.items():
        assert not role["rolsuper"], name
        assert not role["rolbypassrls"], name
        assert not role["rolcreaterole"], name
        assert not role["rolcreatedb"], name
        assert role["rolcanlogin"] == (name == "kiln_authenticator"), name
    assert not roles["kiln_authenticator"]["rolinherit"]


async def test_login_role_owns_nothing_and_holds_no_table_privileges(owner_db):
    owned = await owner_db.fetch(
        "select c.relname from pg_class c join pg_roles r on r.oid = c.relowner"
        " where r.rolname = 'kiln_authenticator'"
    )
    privileged = await owner_db.fetch(
        "select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace"
        " where n.nspname = 'public' and c.relkind in ('r', 'p')"
        " and has_table_privilege('kiln_authenticator', c.oid, 'SELECT, INSERT, UPDATE, DELETE')"
    )
    assert owned == []
    assert privileged == []


async def test_login_role_without_a_switch_is_denied(login_db, owner_db):
    assert await login_db.fetchval("select current_user") == "kiln_authenticator"
    for table in await _rls_tables(owner_db):
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="permission denied"):
            await login_db.fetch(f'select * from "{table}" limit 1')


async def test_switch_is_transaction_local_and_unset_tenant_sees_nothing(client, login_db):
    account = await api.signup(client)
    await api.create_api_key(client, account)

    seen = await sql.as_tenant(login_db, account.tenant_id, "fetchval",
                               "select count(*) from api_keys")
    unset = await sql.as_tenant(login_db, "", "fetchval", "select count(*) from api_keys")

    assert seen == 1
    assert unset == 0
    # The role and the setting reverted with the transaction: the next statement fails closed.
    assert await login_db.fetchval("select current_user") == "kiln_authenticator"
    assert await login_db.fetchval("select current_setting('app.tenant_id', true)") == ""
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await login_db.fetch("select * from api_keys")


@pytest.fixture
async def session_db(database_url):
    """The server's own :class:`Database` (ORM sessions), on one pooled connection."""
    login = urls.authenticator_url(urls.owner_url(database_url), AUTHENTICATOR_PASSWORD)
    db = Database(login, pool_size=1)
    yield db
    await db.close()


async def test_orm_sessions_apply_the_tenant_through_the_after_begin_listener(
    client, owner_db, session_db,
):
    a = await api.signup(client)
    b = await api.signup(client)
    a_keys = {(await api.create_api_key(client, a))["id"] for _ in range(2)}
    await api.create_api_key(client, b)

    async with session_db.transaction(TenantContext(tenant_id=uuid.UUID(a.tenant_id))) as s:
        role = await s.scalar(text("select current_user"))
        setting = await s.scalar(text("select current_setting('app.tenant_id')"))
        keys = list((await s.execute(select(ApiKey))).scalars())

    assert role == "kiln_tenant"
    assert setting == a.tenant_id
    assert {str(k.id) for k in keys} == a_keys
    assert await owner_db.fetchval("select count(*) from api_keys") == 3

    # The request path: the context comes from the contextvar the auth middleware sets.
    with tenancy.acting_as(TenantContext(tenant_id=uuid.UUID(b.tenant_id))):
        async with session_db.transaction() as s:
            b_tenants = [str(t) for t in (await s.execute(select(ApiKey.tenant_id))).scalars()]
    assert b_tenants == [b.tenant_id]


async def test_orm_session_without_a_tenant_fails_closed(client, session_db):
    account = await api.signup(client)
    async with session_db.transaction(TenantContext(tenant_id=uuid.UUID(account.tenant_id))):
        pass  # the pooled connection has been switched once; that must not stick

    assert tenancy.current.get() is None
    with pytest.raises(DBAPIError, match="permission denied"):
        async with session_db.transaction() as s:
            await s.execute(select(ApiKey))
    async with session_db.engine.connect() as connection:
        assert await connection.scalar(text("select current_user")) == "kiln_authenticator"


async def test_pooled_sessions_carry_statement_lock_and_idle_timeouts(login_db):
    settings = {name: await login_db.fetchval(f"show {name}") for name in (
        "statement_timeout", "lock_timeout", "idle_in_transaction_session_timeout")}
    assert settings == {"statement_timeout": "30s", "lock_timeout": "5s",
                        "idle_in_transaction_session_timeout": "1min"}

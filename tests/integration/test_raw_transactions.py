"""The raw pool's transactions (app.db.database.Database.raw): BEGIN and the role switch in one
round trip, COMMIT at the end, ROLLBACK on any error — and nothing of a failed transaction left
on the pooled connection for its next user."""

from __future__ import annotations

import uuid

import asyncpg
import pytest

from app.db.tenancy import ENGINE, TenantContext


@pytest.fixture
def settings(settings):
    return settings.model_copy(update={"run_loops": False})


async def test_a_transaction_runs_as_its_context_and_commits(client, app):
    tenant = uuid.uuid4()
    async with app.state.db.raw(TenantContext(tenant)) as conn:
        assert conn.is_in_transaction()
        row = await conn.fetchrow(
            "select current_user, current_setting('app.tenant_id') as tenant")
        assert (row["current_user"], row["tenant"]) == ("kiln_tenant", str(tenant))
    async with app.state.db.raw(ENGINE) as conn:
        assert await conn.fetchval("select current_user") == "kiln_engine"


async def test_an_error_rolls_back_and_the_connection_comes_back_clean(client, app):
    db = app.state.db

    async def failing_caller() -> None:
        async with db.raw(ENGINE) as conn:
            await conn.execute("select set_config('app.probe', 'left over', false)")
            raise RuntimeError("the caller failed")

    with pytest.raises(RuntimeError):
        await failing_caller()
    # Every connection of the pool: none is in a transaction or carries the rolled-back setting.
    for _ in range(db.pool.get_max_size()):
        async with db.raw(ENGINE) as conn:
            assert await conn.fetchval("select current_setting('app.probe', true)") in (None, "")
    # A statement error inside the block ends the transaction too (no "current transaction is
    # aborted" for the next user).
    async def failing_statement() -> None:
        async with db.raw(ENGINE) as conn:
            await conn.fetchval("select 1 / 0")

    with pytest.raises(asyncpg.DivisionByZeroError):
        await failing_statement()
    async with db.raw(ENGINE) as conn:
        assert await conn.fetchval("select 1") == 1


def test_values_rendered_into_the_begin_script_are_checked():
    with pytest.raises(ValueError, match="unknown role"):
        TenantContext(None, role="postgres").begin_script()
    with pytest.raises(ValueError, match="badly formed"):
        TenantContext("x'; drop table tenants; --").begin_script()  # type: ignore[arg-type]
    script = TenantContext(uuid.UUID(int=1), uuid.UUID(int=2)).begin_script()
    assert script.startswith("BEGIN; select set_config('role', 'kiln_tenant', true)")
    assert "00000000-0000-0000-0000-000000000002" in script


async def test_engine_statements_are_planned_for_each_execution(client, app):
    # A generic plan cached while the tables were empty would outlive their growth (see
    # app/db/database.py); the raw pool's connections plan every execution.
    async with app.state.db.raw(ENGINE) as conn:
        assert await conn.fetchval("show plan_cache_mode") == "force_custom_plan"

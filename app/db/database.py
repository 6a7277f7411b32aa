"""Connection pools of one server process, all logged in as ``kiln_authenticator``.

* :meth:`Database.transaction` — an ORM session in one transaction, for CRUD and admin screens.
  The role switch of :mod:`app.db.tenancy` runs at its start.
* :attr:`Database.pool` — a raw asyncpg pool for the engine's hot path (``app.engine.queue``),
  which sends BEGIN and the role switch together, in one round trip (:meth:`Database.raw`).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator

import asyncpg
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session

from app.db import tenancy, urls


class TenantSession(Session):
    """The sync session class behind every :class:`AsyncSession` we create (RLS switch attached)."""


tenancy.install(TenantSession)


async def _init_connection(connection: asyncpg.Connection) -> None:
    for json_type in ("json", "jsonb"):
        await connection.set_type_codec(
            json_type, encoder=json.dumps, decoder=json.loads, schema="pg_catalog"
        )
    # Plan every execution for its own arguments and the table sizes of now. A generic plan is
    # made once per connection and kept; one made while the engine tables were nearly empty (a
    # new database, before any ANALYZE) scans a table once per batch row after a burst, and a
    # generic plan cannot size a join to the batch it is given. The first bulk DAG drain on a
    # new database went from ~520 to ~880 runs/s; the price is planning per statement (per
    # batch) and per foreign-key check, ~10% of the no-op drain (ops/bench/profile.md §8).
    await connection.execute("SET plan_cache_mode = force_custom_plan")


async def _keep_session(connection: asyncpg.Connection) -> None:
    """Skip asyncpg's reset on release (advisory unlock, CLOSE ALL, UNLISTEN, RESET ALL: one
    round trip per use). Nothing here changes session state: role and tenant are set with
    transaction-local ``set_config`` and revert at commit or rollback. A connection still in a
    transaction (its ROLLBACK failed) is not reused."""
    if connection.is_in_transaction():
        connection.terminate()


async def _roll_back(connection: asyncpg.Connection) -> None:
    """End a failed transaction; a connection that cannot (broken, or busy with a cancelled
    query) is closed instead of going back to the pool mid-transaction."""
    if connection.is_closed():
        return
    try:
        await connection.execute("ROLLBACK")
    except BaseException:
        connection.terminate()
        raise


class Database:
    def __init__(self, login_url: URL, *, pool_size: int = 10) -> None:
        self.login_url = login_url
        self.engine: AsyncEngine = create_async_engine(
            urls.sqlalchemy_url(login_url),
            pool_size=pool_size,
            max_overflow=pool_size,
            pool_pre_ping=True,
            json_serializer=json.dumps,
        )
        self._sessions = async_sessionmaker(
            self.engine, expire_on_commit=False, sync_session_class=TenantSession
        )
        self._pool_size = pool_size
        self.pool: asyncpg.Pool | None = None

    async def connect(self) -> None:
        self.pool = await asyncpg.create_pool(
            urls.asyncpg_dsn(self.login_url),
            min_size=1,
            max_size=self._pool_size,
            init=_init_connection,
            reset=_keep_session,
        )

    async def close(self) -> None:
        if self.pool is not None:
            await self.pool.close()
        await self.engine.dispose()

    @contextlib.asynccontextmanager
    async def transaction(
        self, context: tenancy.TenantContext | None = None
    ) -> AsyncIterator[AsyncSession]:
        """One transaction as ``context`` (default: the request's :data:`tenancy.current`).

        Commits when the block ends normally, rolls back when it raises.
        """
        with contextlib.ExitStack() as stack:
            if context is not None:
                stack.enter_context(tenancy.acting_as(context))
            async with self._sessions() as session, session.begin():
                yield session

    @contextlib.asynccontextmanager
    async def raw(self, context: tenancy.TenantContext) -> AsyncIterator[asyncpg.Connection]:
        """A raw asyncpg connection inside a transaction switched to ``context``.

        The transaction is started by hand (BEGIN and the switch in one round trip), so code in
        it uses ``SAVEPOINT`` statements, not ``connection.transaction()`` (asyncpg refuses to
        nest one inside a transaction it did not start)."""
        assert self.pool is not None, "Database.connect() was not awaited"
        async with self.pool.acquire() as connection:
            await connection.execute(context.begin_script())
            try:
                yield connection
            except BaseException:
                with contextlib.suppress(BaseException):
                    await _roll_back(connection)
                raise
            await connection.execute("COMMIT")

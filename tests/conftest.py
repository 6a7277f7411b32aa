"""Fixtures shared by every tier: a real PostgreSQL (``KILN_TEST_DATABASE_URL`` or embedded),
a migrated template database, a fresh database and app per test, and HTTP clients."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from hypothesis import settings as hypothesis_settings
from litestar import Litestar

from app.asgi import create_app
from app.db import urls
from app.settings import Settings
from tests.support.databases import TEST_SECRET, Server

# No per-example deadline: a loaded CI machine must not turn a property test into a timing test.
hypothesis_settings.register_profile("kiln", deadline=None)
hypothesis_settings.load_profile("kiln")


@pytest.fixture(scope="session")
def kiln_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("kiln-home")


@pytest.fixture(scope="session")
def pg_server(kiln_home: Path) -> Iterator[Server]:
    server = Server.start(kiln_home)
    yield server
    server.stop()


@pytest.fixture(scope="session")
async def template_db(pg_server: Server) -> AsyncIterator[str]:
    name = await pg_server.create_template()
    yield name
    await pg_server.drop(name)


@pytest.fixture
async def database_url(pg_server: Server, template_db: str) -> AsyncIterator[str]:
    """Owner URL of a fresh, migrated database for this test alone."""
    name = await pg_server.clone(template_db)
    yield pg_server.url(name).render_as_string(hide_password=False)
    await pg_server.drop(name)


@pytest.fixture
def settings(database_url: str, kiln_home: Path) -> Settings:
    return Settings(
        database_url=database_url, secret_key=TEST_SECRET, home=kiln_home,
        frontend_dist=kiln_home / "no-dashboard", pool_size=4,
    )


@pytest.fixture
def app(settings: Settings) -> Litestar:
    return create_app(settings)


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    """Real HTTP requests through the ASGI app, on the test's own event loop (so tests may also
    reach ``app.state`` — the engine, the pools — directly)."""
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40000))
    async with running(app), httpx.AsyncClient(
        transport=transport, base_url="http://testserver.local"
    ) as test_client:
        yield test_client


@contextlib.asynccontextmanager
async def running(app: Litestar) -> AsyncIterator[None]:
    """Run the app's lifespan in a task of its own: Litestar enters and exits it in an anyio
    task group, which must happen in one task (pytest may tear fixtures down in another)."""
    started, stop = asyncio.Event(), asyncio.Event()

    async def lifespan() -> None:
        async with app.lifespan():
            started.set()
            await stop.wait()

    task = asyncio.create_task(lifespan())
    waiter = asyncio.create_task(started.wait())
    await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
    if task.done():
        waiter.cancel()
        task.result()  # startup failed: raise its error here
    try:
        yield
    finally:
        stop.set()
        await task


@pytest.fixture
async def owner_db(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    """A superuser/owner connection for SQL-level assertions (bypasses RLS: never for checks of
    isolation itself)."""
    connection = await asyncpg.connect(urls.asyncpg_dsn(urls.owner_url(database_url)))
    yield connection
    await connection.close()


@pytest.fixture
async def login_db(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    """A connection as the pools' login role, ``kiln_authenticator``."""
    from tests.support.databases import AUTHENTICATOR_PASSWORD

    url = urls.authenticator_url(urls.owner_url(database_url), AUTHENTICATOR_PASSWORD)
    connection = await asyncpg.connect(urls.asyncpg_dsn(url))
    yield connection
    await connection.close()

"""Fault-suite fixtures: a private embedded Postgres the tests may restart (never the shared
server of ``KILN_TEST_DATABASE_URL``), a migrated template carrying the transition log, a fresh
database per test, and the e2e fixtures (live server, tenant, worker processes) on top of it."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import urllib.parse
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest

from app.db import urls
from tests.e2e.conftest import (  # noqa: F401 — fixtures reused as they are
    E2E_LEASE_SECONDS,
    live_server,
    spawn,
    tenant,
    workers,
)
from tests.support import invariants
from tests.support.databases import TEST_SECRET, Server
from tests.support.private_pg import PrivatePostgres

MAX_RESCUES = 2
"""KILN_MAX_RESCUES of every chaos server: small, so a poison task fails quickly."""


@pytest.fixture(scope="session")
def chaos_root() -> Iterator[Path]:
    """Where the suite keeps its data directory, logs and effect logs.

    Not pytest's basetemp: other pytest sessions of the same user on this machine prune old
    ``/tmp/pytest-of-<user>/pytest-N`` folders while they start, which once deleted a running
    database's data directory from under this suite."""
    root = Path(tempfile.mkdtemp(prefix="kiln-chaos-"))
    yield root
    if not os.environ.get("KILN_CHAOS_KEEP"):  # set it to keep logs and the data directory
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def tmp_path(chaos_root: Path, request: pytest.FixtureRequest) -> Path:
    """Per-test folder under :func:`chaos_root` (overrides pytest's, which the e2e fixtures
    use for server and worker logs)."""
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", request.node.name)[:60]
    return Path(tempfile.mkdtemp(prefix=f"{name}-", dir=chaos_root))


@pytest.fixture(scope="session")
def private_pg(chaos_root: Path) -> Iterator[PrivatePostgres]:
    server = PrivatePostgres(chaos_root / "pg")
    try:
        yield server
    finally:
        server.close()


@pytest.fixture(scope="session")
def chaos_pg_server(private_pg: PrivatePostgres) -> Server:
    return Server(urls.owner_url(private_pg.owner_url("postgres")), None)


@pytest.fixture(scope="session")
async def chaos_template(chaos_pg_server: Server) -> AsyncIterator[str]:
    name = await chaos_pg_server.create_template()
    owner = await asyncpg.connect(urls.asyncpg_dsn(chaos_pg_server.url(name)))
    try:
        await invariants.install_transition_log(owner)
    finally:
        await owner.close()
    yield name
    await chaos_pg_server.drop(name)


@pytest.fixture
async def database_url(chaos_pg_server: Server, chaos_template: str) -> AsyncIterator[str]:
    """A fresh database on the private server (overrides the shared one of tests/conftest)."""
    name = await chaos_pg_server.clone(chaos_template)
    yield chaos_pg_server.url(name).render_as_string(hide_password=False)
    await chaos_pg_server.drop(name)


@pytest.fixture
def server_env(database_url: str, tmp_path: Path, private_pg: PrivatePostgres) -> dict[str, str]:
    # Never the shared server: these tests stop and crash the database they run on.
    assert urllib.parse.unquote(database_url).endswith(f"host={private_pg.socket_dir}"), \
        database_url
    return {
        **os.environ,
        "KILN_DATABASE_URL": database_url,
        "KILN_SECRET_KEY": TEST_SECRET,
        "KILN_HOME": str(tmp_path / "home"),
        "KILN_FRONTEND_DIST": str(tmp_path / "no-dashboard"),
        "KILN_LEASE_SECONDS": E2E_LEASE_SECONDS,
        "KILN_MAX_POLL_WAIT": "5",
        "KILN_MAX_RESCUES": str(MAX_RESCUES),
        "KILN_POOL_SIZE": "6",
        "KILN_LOG_LEVEL": "warning",
    }


@pytest.fixture
def effect_log(tmp_path: Path) -> Path:
    return tmp_path / "effects.log"

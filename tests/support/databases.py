"""Test databases: one migrated template per session, a fresh copy per test.

The template is built by running the real migrations (roles, RLS policies and grants live there),
never by ``metadata.create_all``.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from pathlib import Path

import asyncpg
from sqlalchemy.engine import URL

from app.db import embedded, migrate, urls

TEST_SECRET = "kiln-test-secret-key"
AUTHENTICATOR_PASSWORD = urls.authenticator_password(TEST_SECRET, None)


class Server:
    """A PostgreSQL server the tests may create databases on, as its owner."""

    def __init__(self, admin_url: URL, embedded_server: embedded.EmbeddedPostgres | None) -> None:
        self.admin_url = admin_url
        self.embedded = embedded_server

    @classmethod
    def start(cls, home: Path) -> Server:
        configured = os.environ.get("KILN_TEST_DATABASE_URL")
        if configured:
            return cls(urls.owner_url(configured), None)
        server = embedded.start(home, database="postgres")
        return cls(urls.owner_url(server.owner_url("postgres")), server)

    def url(self, database: str) -> URL:
        return self.admin_url.set(database=database)

    async def _admin(self, sql: str) -> None:
        connection = await asyncpg.connect(urls.asyncpg_dsn(self.admin_url))
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    async def create_template(self) -> str:
        name = f"kiln_tpl_{uuid.uuid4().hex[:10]}"
        await self._admin(f'CREATE DATABASE "{name}"')
        await migrate.upgrade_to_head(self.url(name), AUTHENTICATOR_PASSWORD)
        return name

    async def clone(self, template: str) -> str:
        name = f"kiln_t_{uuid.uuid4().hex[:12]}"
        # CREATE DATABASE … TEMPLATE fails if another session is connected to the template;
        # nothing connects to it after migration, but retry briefly in case a pool lingers.
        for attempt in range(20):
            try:
                await self._admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
                return name
            except asyncpg.ObjectInUseError:
                await asyncio.sleep(0.05 * (attempt + 1))
        raise RuntimeError(f"template {template} stayed busy")

    async def drop(self, name: str) -> None:
        await self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def stop(self) -> None:
        if self.embedded is not None:
            self.embedded.stop()

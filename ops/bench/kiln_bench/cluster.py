"""The Postgres server a bench run owns: embedded in a temporary directory, or KILN_DATABASE_URL.

Every scenario gets a fresh database cloned from one migrated template, so scenarios do not see
each other's rows. The peers get their own databases on the same server.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
import uuid
from pathlib import Path

import asyncpg
from sqlalchemy.engine import URL

from app.db import embedded, migrate, urls

SECRET_KEY = os.environ.get("KILN_SECRET_KEY") or "kiln-bench-secret-key"


class Cluster:
    """A Postgres server on which the bench creates (and drops) databases as a superuser."""

    def __init__(self, admin_url: URL, server: embedded.EmbeddedPostgres | None) -> None:
        self.admin_url = admin_url
        self.server = server
        self.created: list[str] = []
        self.template: str | None = None
        self.has_statements = False
        self.run_tag = uuid.uuid4().hex[:8]

    @classmethod
    def start(cls, home: Path, *, statements: bool, explain_ms: int | None = None) -> Cluster:
        """Start an embedded server in ``home`` (or use ``KILN_DATABASE_URL``); preload
        pg_stat_statements, and auto_explain for statements slower than ``explain_ms``."""
        configured = os.environ.get("KILN_DATABASE_URL")
        if configured:
            return cls(urls.owner_url(configured).set(database="postgres"), None)
        server = embedded.start(home, database="postgres")
        libraries = [name for name, wanted in (("pg_stat_statements", statements),
                                               ("auto_explain", explain_ms is not None))
                     if wanted]
        if libraries:
            # shared_preload_libraries needs a restart: ≈0.2 s on the embedded server.
            settings = [f"shared_preload_libraries = '{','.join(libraries)}'"]
            if explain_ms is not None:
                settings += [f"auto_explain.log_min_duration = '{int(explain_ms)}ms'",
                             "auto_explain.log_format = 'text'", "auto_explain.log_analyze = on",
                             "auto_explain.log_timing = off", "auto_explain.log_buffers = on"]
            server.psql("".join(f"ALTER SYSTEM SET {setting};\n" for setting in settings))
            server.stop()
            server = embedded.start(home, database="postgres")
        return cls(urls.owner_url(server.owner_url("postgres")), server)

    def slow_plans(self) -> str:
        """auto_explain's plans from the embedded server's log ('' when there are none)."""
        if self.server is None:
            return ""
        log = self.server.data_dir / "log"
        text = log.read_text(errors="replace") if log.exists() else ""
        keep, out = False, []
        for line in text.splitlines():
            if "LOG:  duration:" in line and "plan:" in line:
                keep = True
            elif line[:4].isdigit():  # the next log entry
                keep = False
            if keep:
                out.append(line)
        return "\n".join(out)

    @property
    def kind(self) -> str:
        return "embedded" if self.server else "KILN_DATABASE_URL"

    def url(self, database: str) -> URL:
        return self.admin_url.set(database=database)

    def dsn(self, database: str = "postgres") -> str:
        return urls.asyncpg_dsn(self.url(database))

    def libpq_dsn(self, database: str) -> str:
        """A libpq/psycopg connection string (key=value form keeps the socket ``host``)."""
        url = self.url(database)
        parts = {"dbname": database, "user": url.username, "password": url.password,
                 "host": url.query.get("host") or url.host, "port": url.port}
        return " ".join(f"{key}={value}" for key, value in parts.items() if value)

    async def connect(self, database: str = "postgres") -> asyncpg.Connection:
        return await asyncpg.connect(self.dsn(database))

    async def check(self) -> str:
        """Fail early unless we are a superuser on PostgreSQL ≥ 15; return the server version."""
        conn = await self.connect()
        try:
            superuser = await conn.fetchval("select rolsuper from pg_roles where rolname = "
                                            "current_user")
            version = await conn.fetchval("show server_version")
            if not superuser:
                raise SystemExit("ops/bench needs a superuser URL in KILN_DATABASE_URL (it creates "
                                 "databases, reads pg_stat_statements and inserts rows past RLS)")
            preload = await conn.fetchval("show shared_preload_libraries")
            if "pg_stat_statements" in preload:
                await conn.execute("create extension if not exists pg_stat_statements")
                self.has_statements = True
            return str(version)
        finally:
            await conn.close()

    async def admin(self, sql: str) -> None:
        conn = await self.connect()
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    async def create_database(self, purpose: str, template: str | None = None) -> str:
        name = f"bench_{self.run_tag}_{purpose}"
        clause = f' TEMPLATE "{template}"' if template else ""
        for attempt in range(30):
            try:
                await self.admin(f'CREATE DATABASE "{name}"{clause}')
                break
            except asyncpg.ObjectInUseError:  # a pool of the template may still be closing
                await asyncio.sleep(0.1 * (attempt + 1))
        else:
            raise RuntimeError(f"template {template} stayed busy")
        self.created.append(name)
        return name

    async def kiln_database(self, purpose: str) -> str:
        """A fresh, migrated Kiln database (cloned from a template migrated once per run)."""
        if self.template is None:
            started = time.monotonic()
            self.template = await self.create_database("template")
            password = urls.authenticator_password(SECRET_KEY, None)
            await migrate.upgrade_to_head(self.url(self.template), password)
            self.template_seconds = time.monotonic() - started
        return await self.create_database(purpose, template=self.template)

    async def drop_database(self, name: str) -> None:
        await self.admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if name in self.created:
            self.created.remove(name)

    async def drop_all(self) -> None:
        for name in list(reversed(self.created)):
            with contextlib.suppress(OSError, asyncpg.PostgresError):
                await self.drop_database(name)

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()

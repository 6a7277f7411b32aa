"""Run the Alembic migrations to head and provision the login role's password.

Several server replicas may start at once: a session advisory lock serialises them, so exactly one
migrates and the others find the schema at head.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.engine import URL, Connection
from sqlalchemy.ext.asyncio import create_async_engine

from app.db import urls

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"
MIGRATION_LOCK = 0x6B696C6E  # "kiln"
HOT_TABLES = ("workflow_runs", "task_runs", "queue_items", "flow_queue", "task_attempts", "outbox")


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def _upgrade(connection: Connection, authenticator_password: str) -> None:
    connection.execute(text("select pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK})
    connection.commit()
    try:
        command.upgrade(alembic_config(connection), "head")
        # Plans of the engine's hot statements depend on these statistics; a database upgraded
        # with data in it should not wait for autovacuum to gather them (ANALYZE samples, so it
        # stays cheap on big tables).
        connection.execute(text(f"ANALYZE {', '.join(HOT_TABLES)}"))
        # ALTER ROLE cannot take bind parameters; format_type-safe quoting via quote_literal.
        quoted = connection.execute(
            text("select quote_literal(:p)"), {"p": authenticator_password}
        ).scalar_one()
        connection.execute(text(f"ALTER ROLE {urls.AUTHENTICATOR_ROLE} PASSWORD {quoted}"))
        connection.commit()
    finally:
        connection.rollback()  # no-op after success; clears an aborted transaction on failure
        connection.execute(text("select pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK})
        connection.commit()


async def upgrade_to_head(owner: URL, authenticator_password: str) -> None:
    """Migrate the database at ``owner`` to head (idempotent)."""
    engine = create_async_engine(urls.sqlalchemy_url(owner))
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_upgrade, authenticator_password)
    finally:
        await engine.dispose()


async def current_revision(owner: URL) -> str | None:
    engine = create_async_engine(urls.sqlalchemy_url(owner))
    try:
        async with engine.connect() as connection:
            exists = (await connection.execute(
                text("select to_regclass('alembic_version') is not null"))).scalar_one()
            if not exists:
                return None
            revision: str | None = (await connection.execute(
                text("select version_num from alembic_version"))).scalar_one_or_none()
            return revision
    finally:
        await engine.dispose()

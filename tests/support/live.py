"""Real processes for end-to-end tests: ``kiln server start`` and worker scripts.

Everything is a subprocess talking real HTTP on a free port, so tests can ``kill -9`` and
restart them.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
KILN = ROOT / ".venv" / "bin" / "kiln"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_until(predicate, timeout: float, interval: float = 0.05, message: str = "condition"):  # type: ignore[no-untyped-def]
    """Poll ``predicate`` until it returns a truthy value (returned) or ``timeout`` passes."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout}s waiting for {message}")
        time.sleep(interval)


@dataclass
class LiveServer:
    """A ``kiln server start`` subprocess on a given database."""

    env: dict[str, str]
    log_path: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 90) -> LiveServer:
        with self.log_path.open("ab") as log:  # the child keeps its own descriptor
            self.process = subprocess.Popen(
                [str(KILN), "server", "start", "--port", str(self.port), "--no-migrate"],
                env=self.env, stdout=log, stderr=subprocess.STDOUT,
            )
        wait_until(self._healthy, timeout, message=f"server on {self.url} (log: {self.log_path})")
        return self

    def _healthy(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise RuntimeError(f"server exited with {self.process.returncode}: "
                               f"{self.log_path.read_text()[-3000:]}")
        try:
            return httpx.get(f"{self.url}/api/v1/health", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(sig)
            self.process.wait(timeout=30)
        self.process = None

    def stop(self) -> None:
        self.kill(signal.SIGTERM)


@dataclass
class WorkerProcess:
    process: subprocess.Popen[bytes]
    log_path: Path

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)

    def log(self) -> str:
        return self.log_path.read_text() if self.log_path.exists() else ""


def start_worker(
    script: Path, api_url: str, api_key: str, log_path: Path,
    extra_env: Mapping[str, str] | None = None, args: list[str] | None = None,
) -> WorkerProcess:
    env = {**os.environ, "KILN_API_URL": api_url, "KILN_API_KEY": api_key,
           "PYTHONUNBUFFERED": "1", **(extra_env or {})}
    with log_path.open("ab") as log:
        process = subprocess.Popen([sys.executable, str(script), *(args or [])], env=env,
                                   stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
    return WorkerProcess(process, log_path)

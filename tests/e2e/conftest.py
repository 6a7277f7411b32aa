"""End-to-end fixtures: a live ``kiln server start`` on a fresh database, an account with API
keys, and real worker processes (killed at teardown)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.support.databases import TEST_SECRET
from tests.support.live import LiveServer, WorkerProcess, start_worker

E2E_LEASE_SECONDS = "2"


@pytest.fixture
def server_env(database_url: str, tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "KILN_DATABASE_URL": database_url,
        "KILN_SECRET_KEY": TEST_SECRET,
        "KILN_HOME": str(tmp_path / "home"),
        "KILN_FRONTEND_DIST": str(tmp_path / "no-dashboard"),
        "KILN_LEASE_SECONDS": E2E_LEASE_SECONDS,
        "KILN_MAX_POLL_WAIT": "5",
        "KILN_LOG_LEVEL": "warning",
    }


@pytest.fixture
def live_server(server_env: dict[str, str], tmp_path: Path) -> Iterator[LiveServer]:
    server = LiveServer(env=server_env, log_path=tmp_path / "server.log").start()
    try:
        yield server
    finally:
        server.kill()


@dataclass
class Tenant:
    api_url: str
    token: str
    admin_key: str
    worker_key: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.admin_key}"}


def make_tenant(api_url: str, name: str = "e2e") -> Tenant:
    with httpx.Client(base_url=api_url, timeout=30) as http:
        email = f"{name}-{os.urandom(4).hex()}@example.com"
        signup = http.post("/api/v1/auth/signup", json={
            "email": email, "password": "correct horse battery", "tenant_name": name})
        signup.raise_for_status()
        token = signup.json()["token"]
        auth = {"Authorization": f"Bearer {token}"}
        keys = [http.post("/api/v1/api-keys", headers=auth,
                          json={"name": scope, "scopes": [scope]}).json()["key"]
                for scope in ("admin", "worker")]
    return Tenant(api_url, token, keys[0], keys[1])


@pytest.fixture
def tenant(live_server: LiveServer) -> Tenant:
    return make_tenant(live_server.url)


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[list[WorkerProcess]]:
    """Start with ``spawn(script, tenant, name=...)``; all are killed at teardown."""
    started: list[WorkerProcess] = []
    yield started
    for worker in started:
        worker.kill()


@pytest.fixture
def spawn(workers: list[WorkerProcess], tmp_path: Path):  # type: ignore[no-untyped-def]
    def spawn_worker(script: Path, tenant: Tenant, name: str = "worker",
                     env: dict[str, str] | None = None) -> WorkerProcess:
        process = start_worker(script, tenant.api_url, tenant.worker_key,
                               tmp_path / f"{name}.log", extra_env=env)
        workers.append(process)
        return process

    return spawn_worker

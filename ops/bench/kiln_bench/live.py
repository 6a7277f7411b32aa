"""Real processes: ``kiln server start`` subprocesses, tenants made through HTTP, worker scripts.

Every process is started in its own session (Ctrl-C reaches only the bench, which then stops the
children in order) and registered with :class:`Processes`, which stops whatever is left on exit.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from kiln_bench.cluster import SECRET_KEY, Cluster

ROOT = Path(__file__).resolve().parents[3]
KILN = ROOT / ".venv" / "bin" / "kiln"
WORKERS = ROOT / "ops" / "bench" / "workers"
PASSWORD = "correct horse battery staple"  # noqa: S105 — throwaway accounts of a bench database


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Process:
    name: str
    popen: subprocess.Popen[bytes]
    log_path: Path

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM, then SIGKILL after ``timeout`` seconds."""
        if not self.alive():
            return
        self.popen.send_signal(signal.SIGTERM)
        try:
            self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait(timeout=10)

    def tail(self, chars: int = 2000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:] if self.log_path.exists() else ""


@dataclass
class Processes:
    """Every child process of the run; :meth:`stop_all` stops them, newest first."""

    workdir: Path
    started: list[Process] = field(default_factory=list)

    def spawn(self, name: str, argv: list[str], env: dict[str, str],
              cwd: Path = ROOT) -> Process:
        log_path = self.workdir / f"{name}-{len(self.started)}.log"
        with log_path.open("ab") as log:
            popen = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT,
                                     cwd=cwd, start_new_session=True)
        process = Process(name, popen, log_path)
        self.started.append(process)
        return process

    def stop(self, process: Process, timeout: float = 10.0) -> None:
        process.stop(timeout)
        if process in self.started:
            self.started.remove(process)

    def stop_all(self) -> None:
        for process in reversed(self.started):
            process.stop(timeout=5)
        self.started.clear()


@dataclass
class Server:
    url: str
    database: str
    process: Process


@dataclass
class Tenant:
    id: str
    name: str
    admin_key: str
    worker_key: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.admin_key}"}


async def start_server(procs: Processes, cluster: Cluster, database: str,
                       env: dict[str, str] | None = None, wait: float = 60) -> Server:
    port = free_port()
    server_env = {
        **os.environ,
        "KILN_DATABASE_URL": cluster.url(database).render_as_string(hide_password=False),
        "KILN_SECRET_KEY": SECRET_KEY,
        "KILN_HOME": str(procs.workdir / "kiln-home"),
        "KILN_FRONTEND_DIST": str(procs.workdir / "no-dashboard"),
        "KILN_LOG_LEVEL": "warning",
        **(env or {}),
    }
    process = procs.spawn("server", [str(KILN), "server", "start", "--port", str(port),
                                     "--no-migrate"], server_env)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + wait
    async with httpx.AsyncClient(timeout=2) as http:
        while True:
            if not process.alive():
                raise RuntimeError(f"kiln server exited: {process.tail()}")
            try:
                if (await http.get(f"{url}/api/v1/health")).status_code == 200:
                    return Server(url, database, process)
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"kiln server not healthy after {wait}s: {process.tail()}")
            await asyncio.sleep(0.1)


async def make_tenant(server: Server, name: str) -> Tenant:
    """Sign up (argon2: ≈0.1 s) and create an admin and a worker API key."""
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        signup = await http.post("/api/v1/auth/signup", json={
            "email": f"{name}-{os.urandom(3).hex()}@bench.example.com", "password": PASSWORD,
            "tenant_name": name})
        signup.raise_for_status()
        body = signup.json()
        auth = {"Authorization": f"Bearer {body['token']}"}
        keys = []
        for scope in ("admin", "worker"):
            reply = await http.post("/api/v1/api-keys", headers=auth,
                                    json={"name": scope, "scopes": [scope]})
            reply.raise_for_status()
            keys.append(reply.json()["key"])
    return Tenant(str(body["tenant"]["id"]), name, keys[0], keys[1])


def start_worker(procs: Processes, server: Server, tenant: Tenant, *, workflows: str,
                 slots: int, name: str = "worker", extra: list[str] | None = None) -> Process:
    env = {**os.environ, "KILN_API_URL": server.url, "KILN_API_KEY": tenant.worker_key,
           "PYTHONUNBUFFERED": "1"}
    argv = [sys.executable, str(WORKERS / "kiln_worker.py"), "--name", name,
            "--workflows", workflows, "--slots", str(slots), *(extra or [])]
    return procs.spawn(f"kiln-{name}", argv, env)


async def wait_workers(cluster: Cluster, database: str, tenant_ids: list[str],
                       processes: list[Process], wait: float = 60) -> None:
    """Wait until each tenant has an active worker (its workflows are registered by then)."""
    conn = await cluster.connect(database)
    try:
        deadline = time.monotonic() + wait
        while True:
            for process in processes:
                if not process.alive():
                    raise RuntimeError(f"worker {process.name} exited: {process.tail()}")
            ready = await conn.fetchval(
                "select count(distinct tenant_id) from workers where status = 'active'"
                " and tenant_id = any($1::uuid[])", tenant_ids)
            if ready >= len(tenant_ids):
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"workers not registered after {wait}s")
            await asyncio.sleep(0.1)
    finally:
        await conn.close()


async def trigger_bulk(http: httpx.AsyncClient, tenant: Tenant, workflow: str,
                       inputs: list[Any]) -> list[str]:
    reply = await http.post(f"/api/v1/workflows/{workflow}/runs/bulk", headers=tenant.headers,
                            json={"runs": [{"input": value} for value in inputs]})
    if reply.status_code != 201:
        raise RuntimeError(f"bulk trigger failed: {reply.status_code} {reply.text[:300]}")
    ids: list[str] = reply.json()["ids"]
    return ids


async def trigger_one(http: httpx.AsyncClient, tenant: Tenant, workflow: str,
                      value: Any) -> str:
    reply = await http.post(f"/api/v1/workflows/{workflow}/runs", headers=tenant.headers,
                            json={"input": value})
    if reply.status_code != 201:
        raise RuntimeError(f"trigger failed: {reply.status_code} {reply.text[:300]}")
    run_id: str = reply.json()["id"]
    return run_id

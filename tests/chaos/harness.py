"""What fault scenarios share: a trigger history, a worker supervisor, waits on the API, and the
invariant check over the database and the effect log."""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import contextlib
import logging
import threading
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import httpx

from app.db import urls
from tests.e2e.conftest import Tenant
from tests.support import invariants
from tests.support.live import WorkerProcess, wait_until

WORKER = Path(__file__).with_name("workers") / "chaos_worker.py"
ZOMBIE = Path(__file__).with_name("workers") / "zombie_worker.py"
log = logging.getLogger("kiln.chaos")
"""Scenario summaries (run with ``--log-cli-level=INFO`` to see them)."""
T = TypeVar("T")


def run_async(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run ``coroutine`` on a fresh loop in a thread of its own (the tests are synchronous and
    must not disturb the session loop pytest-asyncio keeps)."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def trigger(tenant: Tenant, workflow: str, inputs: list[dict[str, Any]]) -> list[str]:
    """Trigger one run per input in one request; the accepted run ids."""
    response = httpx.post(f"{tenant.api_url}/api/v1/workflows/{workflow}/runs/bulk",
                          headers=tenant.headers, timeout=30,
                          json={"runs": [{"input": i} for i in inputs]})
    assert response.status_code == 201, response.text
    ids: list[str] = response.json()["ids"]
    return ids


class TriggerPump:
    """Triggers small batches of ``chain`` runs from a thread while faults happen, keeping the
    history of the run ids the API accepted. Refused or failed requests are counted and retried
    later (their runs were never accepted, so nothing is owed for them)."""

    def __init__(self, tenant: Tenant, batch: int = 5, interval: float = 0.1,
                 input: dict[str, Any] | None = None) -> None:
        self.tenant, self.batch, self.interval = tenant, batch, interval
        self.input = input or {}
        self.accepted: list[str] = []
        self.failures: list[str] = []
        self.refused: list[str] = []  # 4xx answers: a bug (of the test or the server)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="trigger-pump", daemon=True)

    def __enter__(self) -> TriggerPump:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        with httpx.Client(base_url=self.tenant.api_url, headers=self.tenant.headers,
                          timeout=10) as http:
            n = 0
            while not self._stop.is_set():
                runs = [{"input": {**self.input, "n": n + i}} for i in range(self.batch)]
                try:
                    response = http.post("/api/v1/workflows/chain/runs/bulk", json={"runs": runs})
                except httpx.HTTPError as exc:
                    self.failures.append(type(exc).__name__)
                    self._stop.wait(0.2)
                    continue
                if response.status_code == 201:
                    self.accepted.extend(response.json()["ids"])
                    n += self.batch
                elif response.status_code < 500:
                    self.refused.append(f"{response.status_code} {response.text[:300]}")
                else:
                    self.failures.append(str(response.status_code))
                self._stop.wait(self.interval)


class Supervisor:
    """Restarts a worker process whenever it exits, at most ``max_restarts`` times — the
    process manager a poison task keeps killing the worker under."""

    def __init__(self, start: Callable[[int], WorkerProcess], max_restarts: int) -> None:
        self._start = start
        self.max_restarts = max_restarts
        self.processes: list[WorkerProcess] = [start(0)]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="supervisor", daemon=True)
        self._thread.start()

    @property
    def restarts(self) -> int:
        return len(self.processes) - 1

    def _watch(self) -> None:
        while not self._stop.wait(0.05):
            if self.processes[-1].process.poll() is not None:
                if self.restarts >= self.max_restarts:
                    return
                self.processes.append(self._start(len(self.processes)))

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        for worker in self.processes:
            worker.kill()


def api(tenant: Tenant, path: str) -> Any:
    response = httpx.get(f"{tenant.api_url}{path}", headers=tenant.headers, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def wait_registered(tenant: Tenant, workflow: str = "chain", timeout: float = 30) -> None:
    def registered() -> bool:
        return httpx.get(f"{tenant.api_url}/api/v1/workflows/{workflow}",
                         headers=tenant.headers, timeout=5).status_code == 200
    wait_until(registered, timeout, interval=0.1, message=f"a worker to register {workflow!r}")


def running_on(tenant: Tenant, worker_name: str) -> int:
    """How many tasks the (latest) worker registered as ``worker_name`` holds now."""
    workers = [w for w in api(tenant, "/api/v1/workers?limit=100")["items"]
               if w["name"] == worker_name]
    return int(workers[0]["running"]) if workers else 0


def runs_terminal(tenant: Tenant, ids: list[str]) -> list[dict[str, Any]] | None:
    """Every run of ``ids`` if all reached a terminal state, else None."""
    found = []
    with httpx.Client(base_url=tenant.api_url, headers=tenant.headers, timeout=30) as http:
        for run_id in ids:
            response = http.get(f"/api/v1/runs/{run_id}")
            if response.status_code != 200:
                return None
            run = response.json()
            if run["status"] not in invariants.TERMINAL:
                return None
            found.append(run)
    return found


def wait_terminal(tenant: Tenant, ids: list[str], timeout: float) -> list[dict[str, Any]]:
    """Wait until every run is terminal; checks the slowest ones first on each pass."""
    pending = list(ids)

    def done() -> bool:
        nonlocal pending
        with contextlib.suppress(httpx.HTTPError):
            while pending:
                if runs_terminal(tenant, pending[-20:]) is None:
                    return False
                pending = pending[:-20]
        return not pending
    try:
        wait_until(done, timeout, interval=0.25, message=f"{len(ids)} runs to finish")
    except TimeoutError as exc:
        raise TimeoutError(f"{exc}; unfinished: {unfinished_summary(tenant, pending)}") from None
    result = runs_terminal(tenant, ids)
    assert result is not None
    return result


def unfinished_summary(tenant: Tenant, ids: list[str]) -> str:
    """What the unfinished runs wait for: counts of (run status, task, task status)."""
    seen: collections.Counter[tuple[str, ...]] = collections.Counter()
    with httpx.Client(base_url=tenant.api_url, headers=tenant.headers, timeout=30) as http:
        for run_id in ids:
            run = http.get(f"/api/v1/runs/{run_id}").json()
            if run.get("status") in invariants.TERMINAL:
                continue
            for task in run.get("tasks", []):
                seen[(run.get("status"), task["name"], task["status"],
                      str(task.get("waiting_for")))] += 1
    return ", ".join(f"{n} x {key}" for key, n in seen.most_common(8)) or "none"


def check_invariants(
    database_url: str, *, max_rescues: int, accepted: list[str], effect_log: Path | None,
) -> invariants.Report:
    """Every invariant over the whole database, at quiescence; raises on a violation."""
    async def go() -> invariants.Report:
        owner = await asyncpg.connect(urls.asyncpg_dsn(urls.owner_url(database_url)))
        try:
            return await invariants.check(
                owner, max_rescues=max_rescues, quiescent=True, accepted=accepted,
                effects=invariants.read_effects(effect_log) if effect_log else None)
        finally:
            await owner.close()
    report = run_async(go())
    report.assert_ok()
    log.info("invariants held: %d checks over %d runs (%s)", report.total, len(accepted),
             ", ".join(f"{name}: {n}" for name, n in sorted(report.checked.items())))
    return report


def query(database_url: str, sql: str, *args: Any) -> list[asyncpg.Record]:
    """One read-only query as the owner (scenario-specific assertions)."""
    async def go() -> list[asyncpg.Record]:
        owner = await asyncpg.connect(urls.asyncpg_dsn(urls.owner_url(database_url)))
        try:
            rows: list[asyncpg.Record] = await owner.fetch(sql, *args)
            return rows
        finally:
            await owner.close()
    return run_async(go())


def elapsed(since: float) -> float:
    return time.monotonic() - since

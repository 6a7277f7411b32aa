"""The engine end to end: a live server, real worker processes running the SDK."""

from __future__ import annotations

import collections
import json
import signal
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import Tenant, make_tenant
from tests.support.live import LiveServer, wait_until
from tests.support.protocol import DIAMOND

WORKER = Path(__file__).with_name("workers") / "diamond.py"
pytestmark = pytest.mark.slow


def trigger_many(tenant: Tenant, count: int, **extra: Any) -> list[str]:
    response = httpx.post(
        f"{tenant.api_url}/api/v1/workflows/diamond/runs/bulk", headers=tenant.headers,
        json={"runs": [{"input": {"n": i}, **extra} for i in range(count)]}, timeout=30)
    assert response.status_code == 201, response.text
    ids: list[str] = response.json()["ids"]
    return ids


def wait_registered(tenant: Tenant, timeout: float = 30) -> None:
    def registered() -> bool:
        response = httpx.get(f"{tenant.api_url}/api/v1/workflows/diamond", headers=tenant.headers)
        return response.status_code == 200
    wait_until(registered, timeout, message="the worker to register 'diamond'")


def runs_finished(tenant: Tenant, ids: list[str]) -> list[dict[str, Any]] | None:
    runs = []
    with httpx.Client(base_url=tenant.api_url, headers=tenant.headers, timeout=30) as http:
        for run_id in ids:
            run = http.get(f"/api/v1/runs/{run_id}").json()
            if run["status"] not in ("succeeded", "failed", "cancelled"):
                return None
            runs.append(run)
    return runs


def effects(path: Path) -> collections.Counter[tuple[str, str]]:
    lines = path.read_text().splitlines() if path.exists() else []
    return collections.Counter((e["run"], e["task"]) for e in map(json.loads, lines))


def test_diamond_dag_gets_parent_outputs_and_finishes_with_the_leaf(tenant, spawn, tmp_path):
    log = tmp_path / "effects.log"
    spawn(WORKER, tenant, env={"KILN_EFFECT_LOG": str(log)})
    wait_registered(tenant)
    (run_id,) = trigger_many(tenant, 1)
    (run,) = wait_until(lambda: runs_finished(tenant, [run_id]), 30, message="the run")
    assert run["status"] == "succeeded"
    assert run["output"] == {"d": {"sum": 0 + 1 + 0 * 10}}
    assert effects(log) == {(run_id, t): 1 for t in "abcd"}

    def logged() -> list[str]:
        logs = httpx.get(f"{tenant.api_url}/api/v1/runs/{run_id}/tasks/d/logs",
                         headers=tenant.headers).json()
        return [line["message"] for line in logs["items"]]
    assert wait_until(logged, 10, message="the task's log line") == ["joining b and c"]


def test_two_hundred_runs_across_two_workers_run_every_task_exactly_once(
    tenant, spawn, tmp_path
):
    log = tmp_path / "effects.log"
    for name in ("w1", "w2"):
        spawn(WORKER, tenant, name=name, env={"KILN_EFFECT_LOG": str(log),
                                              "KILN_WORKER_NAME": name})
    wait_registered(tenant)
    ids = trigger_many(tenant, 200)
    runs = wait_until(lambda: runs_finished(tenant, ids), 120, interval=0.5, message="200 runs")
    assert {r["status"] for r in runs} == {"succeeded"}
    for i, run in enumerate(runs):
        assert run["output"] == {"d": {"sum": i + 1 + i * 10}}
    counts = effects(log)
    assert set(counts.values()) == {1}, "some task ran more than once"
    assert len(counts) == 800
    pids = {json.loads(line)["pid"] for line in log.read_text().splitlines()}
    assert len(pids) == 2, "both workers should have taken work"


def test_kill_9_of_a_worker_holding_tasks_reruns_them_elsewhere(tenant, spawn, tmp_path):
    log = tmp_path / "effects.log"
    slow = spawn(WORKER, tenant, name="victim", env={
        "KILN_EFFECT_LOG": str(log), "KILN_TASK_SLEEP": "30", "KILN_SLOTS": "20"})
    wait_registered(tenant)
    ids = trigger_many(tenant, 10)

    def running_on_victim() -> bool:
        workers = httpx.get(f"{tenant.api_url}/api/v1/workers", headers=tenant.headers).json()
        return any(w["running"] == 10 for w in workers["items"])
    wait_until(running_on_victim, 30, message="the victim to hold all 10 tasks")
    slow.kill(signal.SIGKILL)
    spawn(WORKER, tenant, name="rescuer", env={"KILN_EFFECT_LOG": str(log)})
    runs = wait_until(lambda: runs_finished(tenant, ids), 60, interval=0.5, message="rescue")
    assert {r["status"] for r in runs} == {"succeeded"}
    for run in runs:
        a = next(t for t in run["tasks"] if t["name"] == "a")
        statuses = [x["status"] for x in a["attempts"]]
        # Lost on the victim, then done by the rescuer (a loaded machine may lose one more lease).
        assert statuses[0] == "lost"
        assert statuses[-1] == "succeeded"
        assert set(statuses[:-1]) == {"lost"}
    assert set(effects(log).values()) == {1}  # the victim died before finishing anything


def test_restarting_the_server_mid_run_loses_nothing(
    live_server: LiveServer, tenant, spawn, tmp_path
):
    log = tmp_path / "effects.log"
    spawn(WORKER, tenant, env={"KILN_EFFECT_LOG": str(log), "KILN_TASK_SLEEP": "0.05"})
    wait_registered(tenant)
    ids = trigger_many(tenant, 100)
    wait_until(lambda: len(effects(log)) >= 20, 30, message="some progress")
    live_server.kill(signal.SIGKILL)
    live_server.start()
    runs = wait_until(lambda: runs_finished(tenant, ids), 120, interval=0.5, message="all runs")
    assert {r["status"] for r in runs} == {"succeeded"}
    assert {key for key, _ in effects(log).items()} == {(r, t) for r in ids for t in "abcd"}


def test_a_worker_of_another_tenant_never_receives_tasks(live_server, tenant, spawn, tmp_path):
    other = make_tenant(live_server.url, "other")
    other_log, log = tmp_path / "other.log", tmp_path / "effects.log"
    spawn(WORKER, other, name="other", env={"KILN_EFFECT_LOG": str(other_log)})
    wait_registered(other)
    registered = httpx.post(f"{tenant.api_url}/api/v1/workflows", headers=tenant.headers,
                            json=DIAMOND)
    assert registered.status_code == 201, registered.text
    ids = trigger_many(tenant, 5)  # tenant has no worker yet: its runs must wait
    response = httpx.get(f"{other.api_url}/api/v1/runs/{ids[0]}", headers=other.headers)
    assert response.status_code == 404
    spawn(WORKER, tenant, name="own", env={"KILN_EFFECT_LOG": str(log)})
    runs = wait_until(lambda: runs_finished(tenant, ids), 60, message="own worker")
    assert {r["status"] for r in runs} == {"succeeded"}
    assert not other_log.exists() or not other_log.read_text()

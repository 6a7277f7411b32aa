"""Durable tasks end to end: real worker processes, a worker killed while its task sleeps."""

from __future__ import annotations

import collections
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import Tenant
from tests.support.live import wait_until

WORKER = Path(__file__).with_name("workers") / "durable_sleeper.py"
pytestmark = pytest.mark.slow


def trigger(tenant: Tenant) -> str:
    response = httpx.post(f"{tenant.api_url}/api/v1/workflows/nap/runs", headers=tenant.headers,
                          json={"input": {"seconds": 2}}, timeout=30)
    assert response.status_code == 201, response.text
    run_id: str = response.json()["id"]
    return run_id


def get_run(tenant: Tenant, run_id: str) -> dict[str, Any]:
    response = httpx.get(f"{tenant.api_url}/api/v1/runs/{run_id}", headers=tenant.headers,
                         timeout=30)
    assert response.status_code == 200, response.text
    run: dict[str, Any] = response.json()
    return run


def registered(tenant: Tenant) -> bool:
    return httpx.get(f"{tenant.api_url}/api/v1/workflows/nap", headers=tenant.headers,
                     timeout=30).status_code == 200


def effects(path: Path) -> collections.Counter[str]:
    lines = path.read_text().splitlines() if path.exists() else []
    return collections.Counter(json.loads(line)["step"] for line in lines)


def sleeping(tenant: Tenant, run_id: str) -> bool:
    task = get_run(tenant, run_id)["tasks"][0]
    return task["status"] == "pending" and "durable sleep" in (task["waiting_for"] or "")


def finished(tenant: Tenant, run_id: str) -> dict[str, Any] | None:
    run = get_run(tenant, run_id)
    return run if run["status"] in ("succeeded", "failed", "cancelled") else None


def test_a_killed_worker_s_sleeping_task_resumes_on_another_without_redoing_steps(
    tenant, spawn, tmp_path
):
    log = tmp_path / "effects.log"
    first = spawn(WORKER, tenant, name="w1", env={"KILN_EFFECT_LOG": str(log)})
    wait_until(lambda: registered(tenant), 60, message="the worker to register 'nap'")
    run_id = trigger(tenant)
    wait_until(lambda: sleeping(tenant, run_id), 60, message="the task to suspend in its sleep")
    first.kill()  # SIGKILL during the sleep: the task holds no lease, nothing to rescue
    spawn(WORKER, tenant, name="w2", env={"KILN_EFFECT_LOG": str(log)})
    run = wait_until(lambda: finished(tenant, run_id), 90, message="the run to finish")
    assert run["status"] == "succeeded", run
    assert run["output"]["nap"]["steps"] == ["before", "after"]
    assert effects(log) == {"before": 1, "after": 1}
    task = run["tasks"][0]
    statuses = [a["status"] for a in task["attempts"]]
    # Suspended in the sleep (released), then done by w2. The killed worker's parked long-poll
    # is abandoned when its connection closes, so it never claims the woken task for a dead
    # process (no lost lease in between).
    assert statuses == ["released", "succeeded"]
    assert [(d["kind"], d["name"], d["status"]) for d in task["durable"]] == [
        ("step", "before", "done"), ("sleep", "sleep", "done"), ("step", "after", "done")]


def test_a_renamed_step_between_attempts_fails_with_a_non_determinism_error(
    tenant, spawn, tmp_path
):
    log = tmp_path / "effects.log"
    first = spawn(WORKER, tenant, name="w1", env={"KILN_EFFECT_LOG": str(log)})
    wait_until(lambda: registered(tenant), 60, message="the worker to register 'nap'")
    run_id = trigger(tenant)
    wait_until(lambda: sleeping(tenant, run_id), 60, message="the task to suspend in its sleep")
    first.kill()
    spawn(WORKER, tenant, name="w2", env={"KILN_EFFECT_LOG": str(log),
                                          "KILN_STEP_NAME": "renamed"})
    run = wait_until(lambda: finished(tenant, run_id), 90, message="the run to finish")
    assert run["status"] == "failed"
    error = run["tasks"][0]["error"]
    assert "NonDeterminismError" in error
    assert "'renamed'" in error
    assert "'before'" in error
    assert effects(log) == {"before": 1}


def test_the_approval_example_waits_for_its_scoped_event(tenant, spawn):
    example = Path(__file__).parents[2] / "examples" / "durable"
    spawn(example / "worker.py", tenant, name="approvals")
    wait_until(lambda: httpx.get(f"{tenant.api_url}/api/v1/workflows/approval",
                                 headers=tenant.headers, timeout=30).status_code == 200,
               60, message="the example worker to register")
    done = subprocess.run(
        [sys.executable, str(example / "trigger.py"), "order-7"], capture_output=True, text=True,
        timeout=180, env={**os.environ, "KILN_API_URL": tenant.api_url,
                          "KILN_API_KEY": tenant.admin_key}, check=False)
    assert done.returncode == 0, done.stderr
    assert "'status': 'approved'" in done.stdout
    assert "'order_id': 'order-7'" in done.stdout

"""Flow control end to end: a live server and real SDK worker processes. Invariants are checked
on what the workers recorded (wall-clock start and finish of each task) and on the database's
start times, never on how long things took."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import Tenant
from tests.support.live import wait_until

WORKER = Path(__file__).with_name("workers") / "flow_worker.py"
pytestmark = pytest.mark.slow


def trigger(tenant: Tenant, workflow: str, inputs: list[dict[str, Any]]) -> list[str]:
    response = httpx.post(f"{tenant.api_url}/api/v1/workflows/{workflow}/runs/bulk",
                          headers=tenant.headers, json={"runs": [{"input": i} for i in inputs]},
                          timeout=30)
    assert response.status_code == 201, response.text
    ids: list[str] = response.json()["ids"]
    return ids


def wait_registered(tenant: Tenant, *workflows: str) -> None:
    def registered() -> bool:
        return all(httpx.get(f"{tenant.api_url}/api/v1/workflows/{name}",
                             headers=tenant.headers).status_code == 200 for name in workflows)
    wait_until(registered, 30, message=f"workers to register {workflows}")


def finished(tenant: Tenant, ids: list[str]) -> list[dict[str, Any]] | None:
    runs = []
    with httpx.Client(base_url=tenant.api_url, headers=tenant.headers, timeout=30) as http:
        for run_id in ids:
            run = http.get(f"/api/v1/runs/{run_id}").json()
            if run["status"] not in ("succeeded", "failed", "cancelled"):
                return None
            runs.append(run)
    return runs


def records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def epoch(iso: str) -> float:
    return dt.datetime.fromisoformat(iso).timestamp()


def most_at_once(intervals: list[tuple[float, float]]) -> int:
    """The largest number of intervals open at one instant (a finish before a start at the
    same instant: the slot was free)."""
    events = sorted([(start, 1) for start, _ in intervals] + [(end, -1) for _, end in intervals],
                    key=lambda e: (e[0], e[1]))
    running = peak = 0
    for _, delta in events:
        running += delta
        peak = max(peak, running)
    return peak


def test_max_runs_per_key_holds_across_two_workers(tenant, spawn, tmp_path):
    log = tmp_path / "effects.log"
    for name in ("w1", "w2"):
        spawn(WORKER, tenant, name=name, env={
            "KILN_EFFECT_LOG": str(log), "KILN_WORKER_NAME": name, "KILN_SLOTS": "10"})
    wait_registered(tenant, "capped")
    ids = trigger(tenant, "capped", [{"key": "a", "n": i} for i in range(30)]
                  + [{"key": "b", "n": i} for i in range(6)])
    runs = wait_until(lambda: finished(tenant, ids), 120, interval=0.5, message="36 runs")
    assert {r["status"] for r in runs} == {"succeeded"}

    done = records(log)
    assert len(done) == 36
    by_key = {key: [(r["start"], r["finish"]) for r in done if r["key"] == key]
              for key in ("a", "b")}
    assert most_at_once(by_key["a"]) == 2  # never more than max_runs, and the cap is used
    assert most_at_once(by_key["b"]) <= 2
    # The other key ran in parallel with key a's backlog, not after it.
    assert min(start for start, _ in by_key["b"]) < max(start for start, _ in by_key["a"])
    assert {r["worker"] for r in done} == {"w1", "w2"}
    # One attempt each: nothing was run twice to get there. (The database's started_at and
    # finished_at are transaction start times, so they cannot show overlap exactly: a claim
    # that began a moment before a result committed sees the freed slot.)
    assert all(len(r["tasks"][0]["attempts"]) == 1 for r in runs)


def test_round_robin_starts_the_small_key_before_the_big_backlog_ends(tenant, spawn, tmp_path):
    log = tmp_path / "effects.log"
    spawn(WORKER, tenant, env={"KILN_EFFECT_LOG": str(log), "KILN_SLOTS": "1"})
    wait_registered(tenant, "fair")
    ids = trigger(tenant, "fair", [{"key": "a", "n": i} for i in range(20)])
    ids += trigger(tenant, "fair", [{"key": "b", "n": i} for i in range(2)])
    wait_until(lambda: finished(tenant, ids), 120, interval=0.5, message="22 runs")
    order = [r["key"] for r in sorted(records(log), key=lambda r: r["start"])]
    assert len(order) == 22
    last_b = max(i for i, key in enumerate(order) if key == "b")
    # Served in turn while both keys have work: b's two runs are among the first few, long
    # before a's backlog of 20 ends.
    assert last_b < 6, order


def test_rate_limit_of_five_per_second_with_real_workers(tenant, spawn, tmp_path):
    put = httpx.put(f"{tenant.api_url}/api/v1/rate-limits/e2e-api", headers=tenant.headers,
                    json={"limit": 5, "window": "second", "strategy": "sliding-window"})
    assert put.status_code == 200, put.text
    log = tmp_path / "effects.log"
    for name in ("w1", "w2"):
        spawn(WORKER, tenant, name=name, env={"KILN_EFFECT_LOG": str(log),
                                              "KILN_WORKER_NAME": name})
    wait_registered(tenant, "call_api")
    ids = trigger(tenant, "call_api", [{"n": i} for i in range(20)])
    runs = wait_until(lambda: finished(tenant, ids), 60, interval=0.5, message="20 runs")
    starts = sorted(epoch(r["tasks"][0]["started_at"]) for r in runs)
    assert len(starts) == 20
    window_counts = [sum(1 for u in starts if t <= u < t + 1.0) for t in starts]
    assert max(window_counts) <= 5, starts
    assert starts[-1] - starts[0] >= 2.9
    assert len(records(log)) == 20

"""Two and three `kiln server start` replicas on one database, behind no balancer."""

from __future__ import annotations

import collections
import dataclasses
import json
import signal
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import make_tenant
from tests.support.live import LiveServer, wait_until
from tests.support.protocol import DIAMOND

WORKER = Path(__file__).with_name("workers") / "diamond.py"
pytestmark = pytest.mark.slow


def leaders(servers: list[LiveServer]) -> list[LiveServer]:
    return [s for s in servers
            if httpx.get(f"{s.url}/api/v1/health", timeout=5).json()["leader"]]


@pytest.fixture
def replicas(server_env, tmp_path):  # type: ignore[no-untyped-def]
    servers = [LiveServer(env=server_env, log_path=tmp_path / f"server-{i}.log").start()
               for i in range(3)]
    try:
        yield servers
    finally:
        for server in servers:
            server.kill()


def test_one_leader_among_three_and_fail_over_when_it_dies(replicas):
    (leader,) = wait_until(lambda: leaders(replicas) or None, 30, message="a leader")
    assert len(leaders(replicas)) == 1
    leader.kill(signal.SIGKILL)
    survivors = [s for s in replicas if s is not leader]
    (new_leader,) = wait_until(lambda: leaders(survivors) or None, 30, message="a new leader")
    assert new_leader in survivors


def test_a_poll_parked_on_one_replica_wakes_for_a_trigger_on_another(replicas):
    first, second, _ = replicas
    tenant = make_tenant(first.url)
    headers = {"Authorization": f"Bearer {tenant.worker_key}"}
    httpx.post(f"{first.url}/api/v1/workflows", json=DIAMOND, headers=headers).raise_for_status()
    worker = httpx.post(f"{second.url}/api/v1/workers", headers=headers, json={
        "name": "parked", "actions": ["diamond:a"], "slots": 1}).json()["id"]
    with httpx.Client(timeout=30) as http:
        got: list[dict] = []  # type: ignore[type-arg]

        def park() -> None:
            response = http.post(f"{second.url}/api/v1/workers/{worker}/poll", headers=headers,
                                 json={"max_tasks": 1, "wait": 20})
            got.extend(response.json()["tasks"])

        thread = threading.Thread(target=park)
        thread.start()
        time.sleep(0.5)  # the poll is parked on the second replica
        began = time.monotonic()
        run = httpx.post(f"{first.url}/api/v1/workflows/diamond/runs", json={"input": {}},
                         headers={"Authorization": f"Bearer {tenant.admin_key}"}).json()
        thread.join(timeout=25)
        woke_after = time.monotonic() - began
    assert [t["run_id"] for t in got] == [run["id"]]
    assert woke_after < 15, "woken by the notification, not by the end of the poll"


def test_runs_spread_over_replicas_all_finish_exactly_once(replicas, spawn, tmp_path):
    tenant = make_tenant(replicas[0].url)
    log = tmp_path / "effects.log"
    for i, server in enumerate(replicas):  # one worker per replica
        spawn(WORKER, dataclasses.replace(tenant, api_url=server.url), name=f"w{i}",
              env={"KILN_EFFECT_LOG": str(log), "KILN_WORKER_NAME": f"w{i}"})
    wait_until(lambda: httpx.get(f"{replicas[0].url}/api/v1/workflows/diamond",
                                 headers=tenant.headers).status_code == 200, 30)
    ids = [httpx.post(f"{replicas[i % 3].url}/api/v1/workflows/diamond/runs",
                      json={"input": {"n": i}}, headers=tenant.headers).json()["id"]
           for i in range(60)]

    def done() -> bool:
        return all(httpx.get(f"{replicas[1].url}/api/v1/runs/{run_id}", headers=tenant.headers)
                   .json()["status"] == "succeeded" for run_id in ids)
    wait_until(done, 90, interval=0.5, message="all runs")
    effects = collections.Counter(
        (e["run"], e["task"]) for e in map(json.loads, log.read_text().splitlines()))
    assert effects == {(run_id, task): 1 for run_id in ids for task in "abcd"}

"""Faults of worker processes under a live server: kill -9, SIGSTOP past the lease, SIGTERM
mid-task, and a poison task that kills its worker every time. After each, the invariants of
tests/support/invariants.py must hold over the database and the effect log."""

from __future__ import annotations

import collections
import json
import signal
import time
from pathlib import Path

import pytest

from tests.chaos.conftest import MAX_RESCUES
from tests.chaos.harness import (
    WORKER,
    ZOMBIE,
    Supervisor,
    api,
    check_invariants,
    query,
    running_on,
    trigger,
    wait_registered,
    wait_terminal,
)
from tests.support import invariants
from tests.support.live import start_worker, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]


def worker_env(log: Path, name: str, **extra: str) -> dict[str, str]:
    return {"KILN_EFFECT_LOG": str(log), "KILN_WORKER_NAME": name, **extra}


def attempt_statuses(run: dict, task: str) -> list[str]:  # type: ignore[type-arg]
    (state,) = [t for t in run["tasks"] if t["name"] == task]
    return [a["status"] for a in state["attempts"]]


def test_kill_9_of_a_worker_holding_50_tasks(tenant, spawn, effect_log, database_url):
    victim = spawn(WORKER, tenant, name="victim", env=worker_env(
        effect_log, "victim", KILN_TASK_SLEEP="60", KILN_SLOTS="50"))
    wait_registered(tenant)
    ids = trigger(tenant, "chain", [{"n": i} for i in range(50)])
    wait_until(lambda: running_on(tenant, "victim") == 50, 30, interval=0.1,
               message="the victim to hold all 50 tasks")
    victim.kill(signal.SIGKILL)
    spawn(WORKER, tenant, name="rescuer", env=worker_env(effect_log, "rescuer", KILN_SLOTS="50"))

    runs = wait_terminal(tenant, ids, 60)
    assert {r["status"] for r in runs} == {"succeeded"}
    for run in runs:
        assert attempt_statuses(run, "work") == ["lost", "succeeded"]
        assert attempt_statuses(run, "check") == ["succeeded"]
    effects = invariants.read_effects(effect_log)
    assert {e["worker"] for e in effects} == {"rescuer"}, "the victim died before any effect"
    assert len(effects) == 100
    check_invariants(database_url, max_rescues=MAX_RESCUES, accepted=ids, effect_log=effect_log)


def test_sigstop_past_the_lease_then_sigcont_discards_the_late_results(
    tenant, spawn, effect_log, database_url
):
    victim = spawn(WORKER, tenant, name="victim", env=worker_env(
        effect_log, "victim", KILN_TASK_SLEEP="3", KILN_SLOTS="10"))
    wait_registered(tenant)
    ids = trigger(tenant, "chain", [{"n": i} for i in range(10)])
    wait_until(lambda: running_on(tenant, "victim") == 10, 30, interval=0.1,
               message="the victim to hold all 10 tasks")
    victim.process.send_signal(signal.SIGSTOP)
    try:
        spawn(WORKER, tenant, name="rescuer", env=worker_env(effect_log, "rescuer"))
        runs = wait_terminal(tenant, ids, 60)
    finally:
        victim.process.send_signal(signal.SIGCONT)
    assert {r["status"] for r in runs} == {"succeeded"}
    rescuer_outputs = {r["id"]: r["output"] for r in runs}

    # The victim wakes up past its sleep: each task finishes (its effect happens, at least once)
    # and its result reaches the server, which must discard it — or the heartbeat that wakes with
    # it learns first that the lease is gone and the SDK drops the result.
    def late_effects() -> list[dict]:  # type: ignore[type-arg]
        return [e for e in invariants.read_effects(effect_log) if e["worker"] == "victim"]
    late = wait_until(lambda: len(late_effects()) == 10 and late_effects(), 20,
                      message="the victim's late executions")
    assert {e["attempt"] for e in late} == {1}
    handled = wait_until(lambda: (victim.log().count("action=result_rejected")
                                  + victim.log().count("action=task_cancelled")) >= 10 or None,
                         20, message="the victim's late results to be refused or dropped")
    assert handled

    for run in wait_terminal(tenant, ids, 10):
        assert run["output"] == rescuer_outputs[run["id"]], "a late result changed a run"
        (work,) = [t for t in run["tasks"] if t["name"] == "work"]
        assert work["output"]["worker"] == "rescuer"
        assert work["output"]["attempt"] == 2
        assert attempt_statuses(run, "work") == ["lost", "succeeded"]
    check_invariants(database_url, max_rescues=MAX_RESCUES, accepted=ids, effect_log=effect_log)


def test_a_stopped_worker_that_never_heartbeats_has_its_late_results_rejected(
    tenant, spawn, effect_log, database_url
):
    """The SDK's heartbeat usually learns first that the leases are gone and drops the late
    results itself; a worker that cannot know makes the server's fence do the work."""
    zombie = spawn(ZOMBIE, tenant, name="zombie", env={
        "KILN_EFFECT_LOG": str(effect_log), "KILN_ZOMBIE_TASKS": "5", "KILN_TASK_SLEEP": "4"})
    wait_registered(tenant)  # the zombie registers the chain workflow itself
    ids = trigger(tenant, "chain", [{"n": i} for i in range(5)])
    wait_until(lambda: "CLAIMED 5" in zombie.log(), 30, message="the zombie to claim 5 tasks")
    zombie.process.send_signal(signal.SIGSTOP)
    try:
        spawn(WORKER, tenant, name="rescuer", env=worker_env(effect_log, "rescuer"))
        runs = wait_terminal(tenant, ids, 60)
    finally:
        zombie.process.send_signal(signal.SIGCONT)
    answer = wait_until(lambda: [line for line in zombie.log().splitlines()
                                 if line.startswith("RESULTS ")], 30, message="the late results")
    status, body = answer[0].removeprefix("RESULTS ").split(" ", 1)
    reply = json.loads(body)
    assert status == "200"
    assert reply["accepted"] == []
    assert len(reply["rejected"]) == 5
    for run in wait_terminal(tenant, ids, 10):
        (work,) = [t for t in run["tasks"] if t["name"] == "work"]
        assert work["output"]["worker"] == "rescuer"
    assert {r["status"] for r in runs} == {"succeeded"}
    zombies = [e for e in invariants.read_effects(effect_log) if e["worker"] == "zombie"]
    assert len(zombies) == 5, "the zombie's executions happened (at-least-once)"
    check_invariants(database_url, max_rescues=MAX_RESCUES, accepted=ids, effect_log=effect_log)


def sigterm_mid_task(tenant, spawn, effect_log):  # type: ignore[no-untyped-def]
    """A worker holding 5 short tasks (1.5 s) and 3 long ones (60 s) gets SIGTERM, with a 3 s
    drain deadline. Returns (short ids, long ids, seconds to exit, the worker process)."""
    draining = spawn(WORKER, tenant, name="draining", env=worker_env(
        effect_log, "draining", KILN_SLOTS="10", KILN_DRAIN_TIMEOUT="3"))
    wait_registered(tenant)
    short = trigger(tenant, "chain", [{"n": i, "sleep": 1.5} for i in range(5)])
    long = trigger(tenant, "chain", [{"n": i, "sleep": 60} for i in range(3)])
    wait_until(lambda: running_on(tenant, "draining") == 8, 30, interval=0.05,
               message="the worker to hold all 8 tasks")
    began = time.monotonic()
    draining.process.send_signal(signal.SIGTERM)
    draining.process.wait(timeout=30)
    return short, long, time.monotonic() - began, draining


def test_sigterm_drains_running_tasks_then_exits(tenant, spawn, effect_log, database_url):
    short, long, took, draining = sigterm_mid_task(tenant, spawn, effect_log)
    assert draining.process.returncode == 0, draining.log()[-2000:]
    assert 1.0 < took < 3 + 3, f"exit took {took:.1f}s with a 3 s drain deadline"
    done = {e["run"] for e in invariants.read_effects(effect_log) if e["worker"] == "draining"}
    assert done == set(short), "the short tasks finish during the drain, the long ones do not"
    assert "action=worker_draining" in draining.log()
    (worker,) = [w for w in api(tenant, "/api/v1/workers")["items"] if w["name"] == "draining"]
    assert worker["status"] == "stopped"

    spawn(WORKER, tenant, name="rescuer", env=worker_env(
        effect_log, "rescuer", KILN_SLEEP_CAP="0"))
    runs = wait_terminal(tenant, short + long, 60)
    assert {r["status"] for r in runs} == {"succeeded"}
    for run in runs[:5]:
        assert attempt_statuses(run, "work") == ["succeeded"]
    check_invariants(database_url, max_rescues=MAX_RESCUES, accepted=short + long,
                     effect_log=effect_log)


def test_sigterm_releases_the_leases_of_tasks_past_the_drain_deadline(
    tenant, spawn, effect_log, database_url
):
    _, long, _, _ = sigterm_mid_task(tenant, spawn, effect_log)
    rows = query(database_url, "SELECT status, rescues, attempt FROM task_runs "
                 "WHERE run_id = ANY($1::uuid[]) AND task_name = 'work'", long)
    # At exit the long tasks are back in the queue at once, not running until their lease
    # runs out, and a graceful stop is not a lost lease.
    assert [(r["status"], r["rescues"]) for r in rows] == [("queued", 0)] * 3
    attempts = query(database_url, "SELECT a.status FROM task_attempts a JOIN task_runs t "
                     "ON t.tenant_id = a.tenant_id AND t.id = a.task_run_id "
                     "WHERE t.run_id = ANY($1::uuid[]) AND t.task_name = 'work'", long)
    assert [a["status"] for a in attempts] == ["released"] * 3


def test_a_poison_task_fails_after_max_rescues(tenant, workers, effect_log, database_url,
                                               tmp_path):
    def start(generation: int):  # type: ignore[no-untyped-def]
        process = start_worker(WORKER, tenant.api_url, tenant.worker_key,
                               tmp_path / f"poisoned-{generation}.log",
                               extra_env=worker_env(effect_log, f"poisoned-{generation}"))
        workers.append(process)
        return process

    supervisor = Supervisor(start, max_restarts=MAX_RESCUES + 3)
    try:
        wait_registered(tenant, "poison")
        (poisoned,) = trigger(tenant, "poison", [{}])
        (run,) = wait_terminal(tenant, [poisoned], 60)
        assert run["status"] == "failed"
        (die,) = run["tasks"]
        assert die["status"] == "failed"
        assert attempt_statuses(run, "die") == ["lost"] * (MAX_RESCUES + 1)
        assert f"lease lost {MAX_RESCUES + 1} times" in die["error"]
        dying = [e for e in invariants.read_effects(effect_log) if e["phase"] == "dying"]
        assert [e["attempt"] for e in dying] == list(range(1, MAX_RESCUES + 2))
        assert len({e["pid"] for e in dying}) == MAX_RESCUES + 1, "one worker died per attempt"
        # The supervised worker still does ordinary work afterwards.
        wait_until(lambda: supervisor.processes[-1].process.poll() is None, 10,
                   message="a live worker")
        ids = trigger(tenant, "chain", [{"n": i} for i in range(3)])
        assert {r["status"] for r in wait_terminal(tenant, ids, 30)} == {"succeeded"}
        deaths = collections.Counter(p.process.poll() for p in supervisor.processes)
        assert deaths[-signal.SIGKILL] == MAX_RESCUES + 1
    finally:
        supervisor.stop()
    check_invariants(database_url, max_rescues=MAX_RESCUES, accepted=[poisoned, *ids],
                     effect_log=effect_log)

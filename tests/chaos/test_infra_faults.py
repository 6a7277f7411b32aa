"""Faults of the server and the database while runs flow: ``kill -9`` of the server mid-batch,
and Postgres restarted under it (fast and immediate shutdown). Nobody restarts the workers or
tells anything to reconnect: server and workers must recover by themselves, with backoff, and
every run the API accepted must finish with the invariants intact."""

from __future__ import annotations

import signal
import time

import pytest

from tests.chaos.conftest import E2E_LEASE_SECONDS, MAX_RESCUES
from tests.chaos.harness import (
    WORKER,
    TriggerPump,
    check_invariants,
    log,
    query,
    running_on,
    trigger,
    wait_registered,
    wait_terminal,
)
from tests.support import invariants
from tests.support.live import wait_until

pytestmark = [pytest.mark.slow, pytest.mark.timeout(150)]


def start_workers(spawn, tenant, effect_log, count: int = 2) -> list:  # type: ignore[no-untyped-def,type-arg]
    started = [spawn(WORKER, tenant, name=f"w{i}", env={
        "KILN_EFFECT_LOG": str(effect_log), "KILN_WORKER_NAME": f"w{i}", "KILN_SLOTS": "20"})
        for i in range(count)]
    wait_registered(tenant)
    return started


def progress(effect_log) -> int:  # type: ignore[no-untyped-def]
    return len(invariants.read_effects(effect_log))


def wakeup_latency(tenant, effect_log, count: int = 5) -> tuple[float, list[str]]:  # type: ignore[no-untyped-def]
    """Seconds from trigger to the first task's effect, summed over ``count`` runs triggered one
    after another on idle workers. Parked polls are woken by LISTEN/NOTIFY at once; if the
    server's LISTEN connection did not come back they wait out max_poll_wait (5 s) instead."""
    total, ids = 0.0, []
    for _ in range(count):
        began = time.monotonic()
        (run_id,) = trigger(tenant, "chain", [{"n": -1}])
        ids.append(run_id)
        wait_until(lambda run_id=run_id: any(e["run"] == run_id for e in
                                             invariants.read_effects(effect_log)),
                   30, interval=0.02, message="the wake-up run")
        total += time.monotonic() - began
    wait_terminal(tenant, ids, 30)
    return total, ids


def test_kill_9_of_the_server_mid_batch(live_server, tenant, spawn, effect_log, database_url):
    workers = start_workers(spawn, tenant, effect_log)
    with TriggerPump(tenant, batch=10, interval=0.05) as pump:
        wait_until(lambda: progress(effect_log) >= 100, 60, interval=0.1, message="progress")
        live_server.kill(signal.SIGKILL)  # triggers, polls and result batches are in flight
        killed_at = time.monotonic()
        live_server.start()
        downtime = time.monotonic() - killed_at
        before, done = len(pump.accepted), progress(effect_log)
        wait_until(lambda: len(pump.accepted) >= before + 50, 60, interval=0.1,
                   message="triggers to be accepted again")
        wait_until(lambda: progress(effect_log) >= done + 50, 60, interval=0.1,
                   message="the same workers to make progress again")
    assert not pump.refused
    runs = wait_terminal(tenant, pump.accepted, 90)
    assert {r["status"] for r in runs} == {"succeeded"}
    assert all(w.process.poll() is None for w in workers), "a worker gave up"
    report = check_invariants(database_url, max_rescues=MAX_RESCUES, accepted=pump.accepted,
                              effect_log=effect_log)
    lost = query(database_url, "SELECT count(*) AS n FROM task_attempts WHERE status = 'lost'")
    log.info("server down %.1fs, %d runs accepted, %d trigger failures, %d lost leases, "
             "%d invariant checks", downtime, len(pump.accepted), len(pump.failures),
             lost[0]["n"], report.total)


@pytest.mark.parametrize("mode", ["fast", "immediate"])
def test_postgres_restart_while_runs_flow(
    mode, private_pg, live_server, tenant, spawn, effect_log, database_url
):
    workers = start_workers(spawn, tenant, effect_log)
    with TriggerPump(tenant, batch=5, interval=0.05) as pump:
        wait_until(lambda: progress(effect_log) >= 60, 60, interval=0.1, message="progress")
        downtime = private_pg.restart(mode)
        before, done = len(pump.accepted), progress(effect_log)
        wait_until(lambda: len(pump.accepted) >= before + 50, 60, interval=0.1,
                   message="triggers to be accepted again after the restart")
        wait_until(lambda: progress(effect_log) >= done + 50, 60, interval=0.1,
                   message="workers to make progress again after the restart")
    assert not pump.refused
    runs = wait_terminal(tenant, pump.accepted, 90)
    assert {r["status"] for r in runs} == {"succeeded"}
    latency, woken = wakeup_latency(tenant, effect_log)
    assert latency < 5, f"5 idle wake-ups took {latency:.1f}s: LISTEN did not reconnect?"
    assert live_server.process is not None
    assert live_server.process.poll() is None, "the server exited"
    assert all(w.process.poll() is None for w in workers), "a worker gave up"
    report = check_invariants(database_url, max_rescues=MAX_RESCUES,
                              accepted=pump.accepted + woken, effect_log=effect_log)
    log.info("postgres %s restart: down %.1fs, %d runs accepted, %d trigger failures, "
             "%d invariant checks, 5 wake-ups in %.2fs", mode, downtime, len(pump.accepted),
             len(pump.failures), report.total, latency)


def test_a_server_down_longer_than_the_lease_rescues_no_live_task(
    live_server, tenant, spawn, effect_log, database_url
):
    """The only server is ``kill -9``ed for three leases while a worker runs long tasks: the
    worker cannot heartbeat, so on restart every lease looks expired. The lease grace
    (docs/state_machine.md) lets the worker heartbeat first: no task is rescued or re-run."""
    start_workers(spawn, tenant, effect_log, count=1)
    ids = trigger(tenant, "chain", [{"n": i, "sleep": 8} for i in range(5)])
    wait_until(lambda: running_on(tenant, "w0") == 5, 30, interval=0.1,
               message="the worker to hold all five tasks")
    live_server.kill(signal.SIGKILL)
    lease = float(E2E_LEASE_SECONDS)
    time.sleep(3 * lease)  # the fault itself: downtime well past every lease
    live_server.start()
    runs = wait_terminal(tenant, ids, 60)
    assert {r["status"] for r in runs} == {"succeeded"}
    lost = query(database_url, "SELECT count(*) AS n FROM task_attempts WHERE status = 'lost'")
    assert lost[0]["n"] == 0
    attempts = query(database_url,
                     "SELECT max(attempt) AS a, max(rescues) AS r FROM task_runs")
    assert (attempts[0]["a"], attempts[0]["r"]) == (1, 0)
    report = check_invariants(database_url, max_rescues=MAX_RESCUES, accepted=ids,
                              effect_log=effect_log)
    log.info("server down %.0fs with 5 running tasks: 0 rescued, %d invariant checks",
             3 * lease, report.total)

"""The SDK end to end: real worker processes (the examples and a probe worker) against a live
``kiln server start``, triggered through the SDK itself."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from kiln import Context, Kiln, RunCancelledError, RunFailedError

from tests.e2e.conftest import Tenant
from tests.support.live import ROOT, free_port, start_worker, wait_until

PROBE = Path(__file__).with_name("workers") / "sdk_probe.py"
DAG = ROOT / "examples" / "dag" / "worker.py"
SIMPLE = ROOT / "examples" / "simple"
pytestmark = pytest.mark.slow


@pytest.fixture
def kiln(tenant: Tenant) -> Iterator[Kiln]:
    client = Kiln(api_url=tenant.api_url, api_key=tenant.admin_key)
    yield client
    client.close()


def registered(tenant: Tenant, workflow: str) -> None:
    def found() -> bool:
        return httpx.get(f"{tenant.api_url}/api/v1/workflows/{workflow}",
                         headers=tenant.headers).status_code == 200
    wait_until(found, 30, message=f"a worker to register {workflow!r}")


def effects(path: Path, event: str | None = None) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []
    return [line for line in lines if event is None or line["event"] == event]


def probe(kiln: Kiln, name: str) -> Any:
    """A trigger handle for the probe worker's standalone task ``name`` (only the name and the
    return annotation matter on this side)."""
    def stub(input: Any, ctx: Context) -> Any: ...
    stub.__name__ = name
    return kiln.task()(stub)


def test_the_dag_example_through_wf_run_run_no_wait_and_aio_run(tenant, spawn, kiln):
    spawn(DAG, tenant)
    registered(tenant, "diamond")
    diamond = kiln.workflow("diamond")  # triggering needs only the name
    assert diamond.run({"order_id": 1, "amount": 50.0}, timeout=30) == {
        "d": {"order_id": 1, "total": 65.0}}
    ref = diamond.run_no_wait({"order_id": 2, "amount": 200.0})
    assert ref.result(timeout=30) == {"d": {"order_id": 2, "total": 240.0}}
    assert ref.status() == "succeeded"
    tasks = {task["name"]: task for task in ref.get()["tasks"]}
    assert tasks["b"]["output"] == {"amount": 200.0, "tax": 40.0}
    outputs = diamond.run_many([{"order_id": i, "amount": 10.0} for i in range(5)], timeout=60)
    assert [out["d"]["order_id"] for out in outputs] == list(range(5))
    with pytest.raises(RunFailedError, match="a: NonRetryableError: order 9 has a negative"):
        diamond.run({"order_id": 9, "amount": -1.0}, timeout=30)


async def test_aio_run_from_async_code(tenant, spawn, kiln):
    spawn(DAG, tenant)
    registered(tenant, "diamond")
    output = await kiln.workflow("diamond").aio_run({"order_id": 3, "amount": 1.0}, timeout=30)
    assert output == {"d": {"order_id": 3, "total": 6.2}}
    await kiln.aclose()


EXAMPLE_WORKFLOW = {"simple": "hello", "dag": "diamond", "retries": "payments",
                    "cancel": "long_sync"}


@pytest.mark.parametrize("example", ["simple", "dag", "retries", "cancel"])
def test_the_example_trigger_scripts_run(tenant, spawn, example):
    spawn(ROOT / "examples" / example / "worker.py", tenant)
    registered(tenant, EXAMPLE_WORKFLOW[example])
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / example / "trigger.py")], cwd=ROOT,
        env={"KILN_API_URL": tenant.api_url, "KILN_API_KEY": tenant.admin_key,
             "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    if example == "simple":
        assert "hello.run: {'greeting': 'Hello, Ada!'}" in result.stdout
        assert "wf.run: {'load': {'rows': 9}}" in result.stdout
    elif example == "retries":
        assert "flaky.run: {'succeeded_on_attempt': 3}" in result.stdout
        assert "payments failed as expected" in result.stdout
        assert "charge: failed after [(1, 'failed')]" in result.stdout  # non-retryable
        assert "notify_finance: succeeded" in result.stdout
    elif example == "cancel":
        lines = [line for line in result.stdout.splitlines() if line.startswith("long_")]
        assert len(lines) == 2
        assert all(line.endswith(": cancelled") for line in lines), result.stdout
    else:
        assert "failed as expected" in result.stdout


def test_an_event_push_starts_the_subscribed_workflow(tenant, spawn, kiln):
    spawn(SIMPLE / "worker.py", tenant)
    registered(tenant, "etl")
    pushed = kiln.events.push("order:created", {"x": 2}, metadata={"source": "e2e"})
    (run_id,) = pushed["runs"]
    assert kiln.run_ref(run_id, "etl").result(timeout=30) == {"load": {"rows": 6}}
    bulk = kiln.events.bulk_push([{"key": "order:created", "payload": {"x": 1}},
                                  {"key": "nobody:listens"}])
    assert [len(event["runs"]) for event in bulk["events"]] == [1, 0]


def test_typed_standalone_output_and_failures(tenant, spawn, kiln, tmp_path):
    log = tmp_path / "effects.log"
    spawn(PROBE, tenant, env={"KILN_EFFECT_LOG": str(log)})
    registered(tenant, "sdk_echo")
    assert probe(kiln, "sdk_echo").run({"x": 21}, timeout=30) == {"x": 42, "y": 0}
    with pytest.raises(RunFailedError, match="NonRetryableError: the card was declined"):
        probe(kiln, "sdk_fails").run({}, timeout=30)
    with pytest.raises(RunFailedError, match=r"output of task sdk_unserializable:"
                                             r"sdk_unserializable\['tags'\] is a set"):
        probe(kiln, "sdk_unserializable").run({}, timeout=30)
    # Neither failure was retried, despite retries=2: a retry could not help.
    assert [e["attempt"] for e in effects(log) if e["task"] != "sdk_echo"] == [1, 1]


def test_refresh_timeout_spawned_children_and_the_on_failure_task(tenant, spawn, kiln,
                                                                    tmp_path):
    log = tmp_path / "effects.log"
    spawn(PROBE, tenant, env={"KILN_EFFECT_LOG": str(log)})
    registered(tenant, "sdk_flow")
    assert probe(kiln, "sdk_refresh").run({}, timeout=30) == "made it"
    assert probe(kiln, "sdk_parent").run({}, timeout=60) == [{"x": 2, "y": 0}, {"x": 4, "y": 0}]
    with pytest.raises(RunFailedError, match="breaks: RuntimeError: broken on purpose"):
        kiln.workflow("sdk_flow").run({}, timeout=30)
    (report,) = wait_until(lambda: effects(log, "on_failure"), 15, message="the on-failure task")
    assert report["errors"] == {"breaks": "RuntimeError: broken on purpose"}


def test_a_task_blocking_the_event_loop_keeps_its_lease(tenant, spawn, kiln):
    spawn(PROBE, tenant, env={"KILN_EFFECT_LOG": "/dev/null"})
    registered(tenant, "sdk_hog")
    ref = probe(kiln, "sdk_hog").run_no_wait({"seconds": 5})  # the lease is 2 s in e2e
    assert ref.result(timeout=60) == {"attempt": 1}
    (task,) = ref.get()["tasks"]
    assert [attempt["status"] for attempt in task["attempts"]] == ["succeeded"]


@pytest.mark.parametrize("name", ["sdk_wait_async", "sdk_wait_sync"])
def test_an_execution_timeout_cancels_the_running_task(tenant, spawn, kiln, tmp_path, name):
    log = tmp_path / "effects.log"
    spawn(PROBE, tenant, env={"KILN_EFFECT_LOG": str(log)})
    registered(tenant, name)
    with pytest.raises(RunFailedError, match="execution timeout"):
        probe(kiln, name).run({}, timeout=30)
    wait_until(lambda: effects(log, "cancelled"), 15, message="the task to see its cancellation")


def test_ref_cancel_stops_the_running_async_task(tenant, spawn, kiln, tmp_path):
    log = tmp_path / "effects.log"
    spawn(PROBE, tenant, env={"KILN_EFFECT_LOG": str(log)})
    registered(tenant, "sdk_wait_cancel")
    ref = probe(kiln, "sdk_wait_cancel").run_no_wait({})
    wait_until(lambda: effects(log, "started"), 30, message="the task to start")
    ref.cancel()
    with pytest.raises(RunCancelledError, match=f"run {ref.id} .* was cancelled"):
        ref.result(timeout=10)
    wait_until(lambda: effects(log, "cancelled"), 15, message="the task to see its cancellation")


def test_sigterm_lets_running_tasks_finish_then_unregisters(tenant, spawn, kiln, tmp_path):
    log = tmp_path / "effects.log"
    worker = spawn(PROBE, tenant, env={"KILN_EFFECT_LOG": str(log)})
    registered(tenant, "sdk_slow")
    ref = probe(kiln, "sdk_slow").run_no_wait({"seconds": 2})
    wait_until(lambda: effects(log, "started"), 30, message="the task to start")
    worker.kill(signal.SIGTERM)  # waits for the process to exit
    assert worker.process.returncode == 0, worker.log()
    assert ref.result(timeout=10) == {"attempt": 1}
    assert "action=worker_stopped" in worker.log()
    listed = httpx.get(f"{tenant.api_url}/api/v1/workers", headers=tenant.headers).json()
    assert [w["status"] for w in listed["items"]] == ["stopped"]


def test_a_task_past_the_drain_deadline_is_abandoned_and_rerun_elsewhere(
        tenant, spawn, kiln, tmp_path):
    log = tmp_path / "effects.log"
    env = {"KILN_EFFECT_LOG": str(log), "KILN_DRAIN_TIMEOUT": "0.5s"}
    worker = spawn(PROBE, tenant, name="first", env=env)
    registered(tenant, "sdk_slow")
    ref = probe(kiln, "sdk_slow").run_no_wait({"seconds": 120})
    wait_until(lambda: effects(log, "started"), 30, message="the task to start")
    worker.kill(signal.SIGTERM)
    assert worker.process.returncode == 0, worker.log()
    assert "action=task_abandoned" in worker.log()
    spawn(PROBE, tenant, name="rescuer", env=env)
    # The stopped worker's long-poll is abandoned when its connection closes, so the requeued
    # task goes to the rescuer, not to that dead poll.
    assert ref.result(timeout=60)["attempt"] == 2


def test_a_rejected_key_ends_the_worker_with_a_readable_error(tenant, tmp_path):
    worker = start_worker(PROBE, tenant.api_url, "kiln_not_a_real_key", tmp_path / "bad.log",
                          extra_env={"KILN_EFFECT_LOG": "/dev/null"})
    assert worker.process.wait(timeout=60) != 0
    assert f"the Kiln API at {tenant.api_url} rejected the API key (401" in worker.log()


def test_an_unreachable_server_ends_the_worker_with_a_readable_error(tmp_path):
    url = f"http://127.0.0.1:{free_port()}"
    worker = start_worker(PROBE, url, "kiln_whatever", tmp_path / "down.log",
                          extra_env={"KILN_EFFECT_LOG": "/dev/null"})
    assert worker.process.wait(timeout=60) != 0
    assert f"could not reach the Kiln API at {url} (POST /api/v1/workflows) after 6 attempt(s)" \
        in worker.log()

"""A live server with ``KILN_LOG_FORMAT=json``: every request line carries its request id (the
caller's ``X-Request-ID`` or a fresh one, echoed in the response) and the tenant; engine lines
carry run, task and attempt ids; no secret shows up in any line."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import Tenant
from tests.support.live import LiveServer, wait_until

pytestmark = [pytest.mark.timeout(120)]


@pytest.fixture
def server_env(server_env: dict[str, str]) -> dict[str, str]:
    return {**server_env, "KILN_LOG_FORMAT": "json", "KILN_LOG_LEVEL": "debug"}


def json_lines(server: LiveServer) -> list[dict[str, Any]]:
    lines = []
    for text in server.log_path.read_text().splitlines():
        if text.startswith("{"):
            lines.append(json.loads(text))  # a JSON-looking line that is not JSON fails here
    return lines


def find(lines: list[dict[str, Any]], **wanted: Any) -> dict[str, Any] | None:
    return next((line for line in lines
                 if all(line.get(k) == v for k, v in wanted.items())), None)


def run_one_task(http: httpx.Client, tenant: Tenant) -> dict[str, Any]:
    """Trigger a run under a chosen request id and work its task over the protocol."""
    worker = {"Authorization": f"Bearer {tenant.worker_key}"}
    http.post("/api/v1/workflows", headers=worker,
              json={"name": "one", "tasks": [{"name": "one"}]}).raise_for_status()
    worker_id = http.post("/api/v1/workers", headers=worker, json={
        "name": "w", "actions": ["one:one"], "slots": 1}).json()["id"]
    triggered = http.post("/api/v1/workflows/one/runs", json={"input": {}},
                          headers={**tenant.headers, "X-Request-ID": "trigger-42"})
    assert triggered.status_code == 201, triggered.text
    assert triggered.headers["X-Request-ID"] == "trigger-42"
    polled = http.post(f"/api/v1/workers/{worker_id}/poll", headers=worker,
                       json={"max_tasks": 1, "wait": 5})
    (task,) = polled.json()["tasks"]
    done = http.post(f"/api/v1/workers/{worker_id}/results", headers=worker, json={"results": [{
        "task_run_id": task["task_run_id"], "lease_id": task["lease_id"],
        "status": "succeeded", "output": {}}]})
    assert done.json()["accepted"] == [task["task_run_id"]], done.text
    return {"run_id": triggered.json()["id"], "task": task,
            "poll_request_id": polled.headers["X-Request-ID"]}


def make_secrets(http: httpx.Client, tenant: Tenant) -> list[str]:
    """Create things whose secrets must never be logged; return the secrets."""
    hook = http.post("/api/v1/webhooks", headers=tenant.headers, json={
        "name": "gh", "event_key": "hook:received", "verifier": "hmac-sha256",
        "secret": "whsec-do-not-log-0123456789abcdef"})
    assert hook.status_code == 201, hook.text
    channel = http.post("/api/v1/alerts/channels", headers=tenant.headers, json={
        "type": "webhook", "name": "ops", "config": {"url": "https://example.com/hook"},
        "events": ["run.failed"]})
    assert channel.status_code == 201, channel.text
    key = http.post("/api/v1/api-keys", headers=tenant.headers, json={"name": "extra"})
    me = http.get("/api/v1/me", headers=tenant.headers).json()
    wrong = http.post("/api/v1/auth/login", json={"email": me["user"]["email"] if me.get("user")
                                                  else "x@example.com",
                                                  "password": "wrong-password-not-logged"})
    assert wrong.status_code in (401, 429)
    return [hook.json()["secret"], key.json()["key"], tenant.admin_key, tenant.worker_key,
            tenant.token, "correct horse battery", "wrong-password-not-logged",
            *[str(v) for v in channel.json().get("generated_secrets", {}).values()]]


def test_json_lines_carry_request_run_and_task_ids_and_no_secret(live_server, tenant):
    with httpx.Client(base_url=live_server.url, timeout=30) as http:
        worked = run_one_task(http, tenant)
        secrets = make_secrets(http, tenant)
        fresh = http.get("/api/v1/health")
        forged = http.get("/api/v1/health", headers={"X-Request-ID": "bad id\twith spaces"})
        unrouted = http.get("/api/v1/no-such-thing", headers={"X-Request-ID": "lost-7"})
        tenant_id = http.get("/api/v1/me", headers=tenant.headers).json()["tenant"]["id"]
    assert len(fresh.headers["X-Request-ID"]) == 32
    assert forged.headers["X-Request-ID"] not in ("bad id\twith spaces", "")
    assert (unrouted.status_code, unrouted.headers["X-Request-ID"]) == (404, "lost-7")
    task, run_id = worked["task"], worked["run_id"]

    wait_until(lambda: find(json_lines(live_server), path="/api/v1/me") is not None, 10,
               message="the last request's log line")
    lines = json_lines(live_server)
    trigger = find(lines, action="request", request_id="trigger-42")
    assert trigger is not None
    assert trigger["tenant_id"] == tenant_id
    assert (trigger["method"], trigger["path"], trigger["status"]) == (
        "POST", "/api/v1/workflows/one/runs", 201)
    triggered = find(lines, action="run.triggered", run_id=run_id)
    assert triggered is not None
    assert (triggered["request_id"], triggered["tenant_id"]) == ("trigger-42", tenant_id)
    claimed = find(lines, action="task.claimed", task_id=task["task_run_id"])
    assert claimed is not None
    assert (claimed["run_id"], claimed["attempt"], claimed["request_id"]) == (
        run_id, 1, worked["poll_request_id"])
    result = find(lines, action="task.result", task_id=task["task_run_id"])
    assert result is not None
    assert result["outcome"] == "succeeded"
    assert all("timestamp" in line and "level" in line for line in lines)

    text = live_server.log_path.read_text()
    leaked = [secret[:8] + "…" for secret in secrets if secret and secret in text]
    assert not leaked, f"secrets in the server log: {leaked}"

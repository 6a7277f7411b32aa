"""examples/webhook end to end: a live server, the example's worker process, the README's
webhook, and ``send.sh`` (curl + openssl) delivering a GitHub-signed push that starts a run."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from typing import Any

import httpx
import pytest

from tests.support.live import ROOT, wait_until

EXAMPLE = ROOT / "examples" / "webhook"
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (shutil.which("curl") and shutil.which("openssl")),
                       reason="send.sh needs curl and openssl"),
]


def send(url: str, secret: str) -> tuple[int, dict[str, Any]]:
    env = {**os.environ, "KILN_WEBHOOK_URL": url, "KILN_WEBHOOK_SECRET": secret}
    done = subprocess.run(["bash", str(EXAMPLE / "send.sh")], env=env, capture_output=True,
                          text=True, timeout=30, check=True)
    body, _, status = done.stdout.strip().rpartition("\nHTTP ")
    return int(status), json.loads(body)


@pytest.fixture
def http(tenant):
    with httpx.Client(base_url=tenant.api_url, headers=tenant.headers, timeout=30) as client:
        yield client


def test_a_github_signed_push_starts_the_example_workflow(tenant, spawn, http):
    spawn(EXAMPLE / "worker.py", tenant)
    wait_until(lambda: http.get("/api/v1/workflows/on-push").status_code == 200, 30,
               message="the example worker to register on-push")
    created = http.post("/api/v1/webhooks", json={
        "name": "github", "verifier": "github", "event_key": "github:unknown",
        "key_expression": "'github:' + headers['x-github-event']"})
    assert created.status_code == 201, created.text
    hook = created.json()
    assert hook["url"] == f"{tenant.api_url}/hooks/{hook['id']}"

    status, accepted = send(hook["url"], hook["secret"])

    assert status == 202, accepted
    event = http.get(f"/api/v1/events/{accepted['event_id']}").json()
    assert event["key"] == "github:push"
    (run_id,) = event["runs"]

    def finished() -> dict[str, Any] | None:
        run: dict[str, Any] = http.get(f"/api/v1/runs/{run_id}").json()
        return run if run["status"] in ("succeeded", "failed") else None

    run = wait_until(finished, 30, message="the push run")
    assert run["output"] == {"summarise": {"repository": "acme/shop", "branch": "main",
                                           "commit": "9f2c1e7", "pusher": "ada"}}

    status, refused = send(hook["url"], "not-" + hook["secret"])
    assert status == 401
    assert refused["error"]["message"] == "webhook verification failed"
    listed = http.get("/api/v1/events", params={"webhook_id": hook["id"]}).json()["items"]
    assert [e["id"] for e in listed] == [event["id"]]
    assert http.get(f"/api/v1/webhooks/{hook['id']}").json()["failed_verifications"] == 1

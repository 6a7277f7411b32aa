"""A worker killed while its long-poll is parked: the server notices the connection closed
(ASGI ``http.disconnect``) and abandons the poll, so a task queued afterwards stays queued for
a live worker instead of being leased to the dead one (and lost until its lease expires)."""

from __future__ import annotations

import json
import socket
from urllib.parse import urlsplit

import httpx
import pytest

from tests.support.live import wait_until


@pytest.fixture
def server_env(server_env):
    return {**server_env, "KILN_LOG_LEVEL": "info", "KILN_MAX_POLL_WAIT": "30"}


def _open_poll(api_url: str, key: str, worker_id: str) -> socket.socket:
    """Send a long-poll on a raw socket (so it can be cut without a goodbye) and return it."""
    url = urlsplit(api_url)
    body = json.dumps({"max_tasks": 1, "wait": 30}).encode()
    sock = socket.create_connection((url.hostname, url.port))
    sock.sendall(
        f"POST /api/v1/workers/{worker_id}/poll HTTP/1.1\r\nHost: {url.netloc}\r\n"
        f"Authorization: Bearer {key}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
    return sock


def test_a_closed_connection_abandons_the_parked_poll_before_it_claims(
        live_server, tenant):
    worker_auth = {"Authorization": f"Bearer {tenant.worker_key}"}
    with httpx.Client(base_url=tenant.api_url, timeout=30) as http:
        http.post("/api/v1/workflows", headers=worker_auth, json={
            "name": "one", "tasks": [{"name": "one"}]}).raise_for_status()
        dead = http.post("/api/v1/workers", headers=worker_auth, json={
            "name": "dead", "actions": ["one:one"], "slots": 1}).json()["id"]
        sock = _open_poll(tenant.api_url, tenant.worker_key, dead)
        # The poll has run its first (empty) claim when the worker shows a heartbeat.
        wait_until(lambda: http.get("/api/v1/workers", headers=tenant.headers).json()["items"][0]
                   ["last_heartbeat_at"] is not None, 30, message="the poll to park")
        sock.close()  # the worker process dies: its connection closes
        wait_until(lambda: "action=poll.abandoned" in live_server.log_path.read_text(), 30,
                   message="the server to abandon the poll")

        run = http.post("/api/v1/workflows/one/runs", headers=tenant.headers,
                        json={"input": {}}).json()
        assert http.get(f"/api/v1/runs/{run['id']}", headers=tenant.headers).json()[
            "tasks"][0]["status"] == "queued"
        live = http.post("/api/v1/workers", headers=worker_auth, json={
            "name": "live", "actions": ["one:one"], "slots": 1}).json()["id"]
        [task] = http.post(f"/api/v1/workers/{live}/poll", headers=worker_auth,
                           json={"max_tasks": 1, "wait": 5}).json()["tasks"]

    assert (task["run_id"], task["attempt"]) == (run["id"], 1)

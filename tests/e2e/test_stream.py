"""The live change stream (SSE) over a real HTTP server: a trigger and the task's progress arrive
as events without polling; reconnecting with Last-Event-ID catches up or says reset; workers
registering, stopping and being lost arrive as ``workers`` events."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator

import asyncpg
import httpx
import pytest

from app.db import urls
from tests.e2e.conftest import make_tenant
from tests.support.protocol import DIAMOND

pytestmark = pytest.mark.slow


def events(response: httpx.Response, wanted: int) -> list[tuple[str, dict, str | None]]:  # type: ignore[type-arg]
    """Read SSE events until ``wanted`` 'runs' events arrived."""
    out, event, data, event_id = [], None, None, None
    for line in response.iter_lines():
        if line.startswith("event:"):
            event = line.split(":", 1)[1].strip()
        elif line.startswith("data:"):
            data = json.loads(line.split(":", 1)[1])
        elif line.startswith("id:"):
            event_id = line.split(":", 1)[1].strip()
        elif line == "" and event:
            out.append((event, data or {}, event_id))
            if sum(1 for e in out if e[0] == "runs") >= wanted:
                return out
            event, data, event_id = None, None, None
    return out


def test_trigger_and_cancel_arrive_live_and_reconnect_catches_up(live_server):
    tenant = make_tenant(live_server.url)
    http = httpx.Client(base_url=tenant.api_url, headers=tenant.headers, timeout=30)
    http.post("/api/v1/workflows", json=DIAMOND).raise_for_status()
    with http.stream("GET", "/api/v1/stream") as stream:
        assert stream.status_code == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
        run = http.post("/api/v1/workflows/diamond/runs", json={"input": {}}).json()
        http.post(f"/api/v1/runs/{run['id']}/cancel").raise_for_status()
        got = events(stream, wanted=2)
    kinds = [e[0] for e in got]
    assert kinds[0] == "ready"
    runs = [e for e in got if e[0] == "runs"]
    assert all(e[1]["runs"] == [run["id"]] for e in runs)
    first_id = runs[0][2]

    # Reconnect from the first event: the second one is replayed from the buffer.
    with http.stream("GET", "/api/v1/stream", headers={"Last-Event-ID": first_id}) as again:
        replayed = events(again, wanted=1)
    assert replayed[0][0] == "runs"
    assert replayed[0][2] == runs[1][2]

    with http.stream("GET", "/api/v1/stream", headers={"Last-Event-ID": "other:1"}) as stale:
        assert events(stale, wanted=0)[0][0] == "reset"


def test_another_tenant_sees_nothing(live_server):
    tenant, other = make_tenant(live_server.url), make_tenant(live_server.url, "other")
    httpx.post(f"{tenant.api_url}/api/v1/workflows", json=DIAMOND,
               headers=tenant.headers).raise_for_status()
    with httpx.Client(base_url=other.api_url, headers=other.headers, timeout=5) as http, \
            http.stream("GET", "/api/v1/stream") as stream:
        lines = stream.iter_lines()
        assert "event: ready" in [next(lines) for _ in range(3)]
        httpx.post(f"{tenant.api_url}/api/v1/workflows/diamond/runs", json={"input": {}},
                   headers=tenant.headers).raise_for_status()
        seen: list[str] = []

        def read_all() -> None:
            seen.extend(lines)  # nothing but a keepalive could come; the read times out first
        with pytest.raises(httpx.ReadTimeout):
            read_all()
        assert not [line for line in seen if line.startswith("event: runs")]


def _next_events(lines: Iterator[str], kind: str, count: int) -> list[dict]:  # type: ignore[type-arg]
    """The data of the next ``count`` events of type ``kind`` (others are skipped)."""
    found: list[dict] = []  # type: ignore[type-arg]
    event = None
    for line in lines:
        if line.startswith("event:"):
            event = line.split(":", 1)[1].strip()
        elif line.startswith("data:") and event == kind:
            found.append(json.loads(line.split(":", 1)[1]))
            if len(found) == count:
                return found
        elif line == "":
            event = None
    return found


def test_workers_registering_stopping_and_lost_arrive_live(live_server, database_url):
    tenant = make_tenant(live_server.url)
    worker = {"actions": ["diamond:a"], "slots": 3}
    with httpx.Client(base_url=tenant.api_url, headers=tenant.headers, timeout=30) as http:
        with http.stream("GET", "/api/v1/stream") as stream:
            lines = stream.iter_lines()
            assert "event: ready" in [next(lines) for _ in range(3)]
            stopping = http.post("/api/v1/workers", json={"name": "w1", **worker}).json()["id"]
            silent = http.post("/api/v1/workers", json={"name": "w2", **worker}).json()["id"]
            assert _next_events(lines, "workers", 2) == [
                {"workers": [stopping]}, {"workers": [silent]}]

            http.delete(f"/api/v1/workers/{stopping}").raise_for_status()
            assert _next_events(lines, "workers", 1) == [{"workers": [stopping]}]

            # The second worker stops heartbeating: the reaper marks it lost and says so.
            asyncio.run(_silence(database_url, silent))
            assert _next_events(lines, "workers", 1) == [{"workers": [silent]}]
        statuses = {w["id"]: w["status"] for w in http.get("/api/v1/workers").json()["items"]}
    assert statuses == {stopping: "stopped", silent: "lost"}


def test_a_lost_worker_coming_back_arrives_live(live_server, database_url):
    """Its return is announced like its loss, whether it comes back with a poll (the claim
    statement of a worker the server knows) or a heartbeat."""
    tenant = make_tenant(live_server.url)
    with httpx.Client(base_url=tenant.api_url, headers=tenant.headers, timeout=30) as http:
        worker = http.post("/api/v1/workers", json={
            "name": "w", "actions": ["diamond:a"], "slots": 1}).json()["id"]
        http.post(f"/api/v1/workers/{worker}/poll", json={"wait": 0}).raise_for_status()
        with http.stream("GET", "/api/v1/stream") as stream:
            lines = stream.iter_lines()
            assert "event: ready" in [next(lines) for _ in range(3)]
            for comeback in ("poll", "heartbeat"):
                asyncio.run(_silence(database_url, worker))
                assert _next_events(lines, "workers", 1) == [{"workers": [worker]}]  # lost
                assert _status(http, worker) == "lost"

                body = {"wait": 0} if comeback == "poll" else {"tasks": []}
                http.post(f"/api/v1/workers/{worker}/{comeback}", json=body).raise_for_status()

                assert _next_events(lines, "workers", 1) == [{"workers": [worker]}]  # back
                assert _status(http, worker) == "active"


def _status(http: httpx.Client, worker_id: str) -> str:
    return next(w["status"] for w in http.get("/api/v1/workers").json()["items"]
                if w["id"] == worker_id)


async def _silence(database_url: str, worker_id: str) -> None:
    conn = await asyncpg.connect(urls.asyncpg_dsn(urls.owner_url(database_url)))
    try:
        await conn.execute("UPDATE workers SET last_heartbeat_at = now() - interval '1 hour'"
                           " WHERE id = $1", uuid.UUID(worker_id))
    finally:
        await conn.close()

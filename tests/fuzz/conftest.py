"""API fuzzing fixtures: one live server per module on a fresh copy of the test database, and two
tenants — A, whose token the fuzzer uses and whose resources it aims at, and B, whose token
replays every request to prove it cannot reach A's resources."""

from __future__ import annotations

import collections
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support import api
from tests.support.databases import TEST_SECRET, Server
from tests.support.live import LiveServer
from tests.support.protocol import DIAMOND


@pytest.fixture(scope="module")
async def fuzz_database_url(pg_server: Server, template_db: str) -> AsyncIterator[str]:
    name = await pg_server.clone(template_db)
    yield pg_server.url(name).render_as_string(hide_password=False)
    await pg_server.drop(name)


@pytest.fixture(scope="module")
def fuzz_server(fuzz_database_url: str, tmp_path_factory: pytest.TempPathFactory,
                ) -> Iterator[LiveServer]:
    home = tmp_path_factory.mktemp("fuzz-server")
    server = LiveServer(env={
        **os.environ,
        "KILN_DATABASE_URL": fuzz_database_url,
        "KILN_SECRET_KEY": TEST_SECRET,
        "KILN_HOME": str(home / "home"),
        "KILN_FRONTEND_DIST": str(home / "no-dashboard"),
        "KILN_LEASE_SECONDS": "2",
        "KILN_MAX_POLL_WAIT": "0.5",  # fuzzed long-polls must not dominate the run time
        "KILN_ALERT_TIMEOUT_SECONDS": "1",
        "KILN_LOG_LEVEL": "warning",
    }, log_path=home / "server.log").start()
    try:
        yield server
    finally:
        server.kill()


@dataclass
class FuzzTenant:
    """One tenant: its owner's session token and the resources seeded for it, by the name of
    the path parameter that addresses them."""

    account: api.Account
    resources: dict[str, list[str]] = field(default_factory=dict)

    @property
    def headers(self) -> dict[str, str]:
        return self.account.headers

    def owns(self, param: str, value: Any) -> bool:
        return str(value) in self.resources.get(param, [])

    def identifiers(self) -> set[str]:
        """Everything that names this tenant's data (none may show up in another's answers)."""
        found = {self.account.tenant_id, self.account.user_id, self.account.email}
        for values in self.resources.values():
            found.update(values)
        return found


async def _seed(http: httpx.AsyncClient, name: str) -> FuzzTenant:
    owner = await api.signup(http, tenant_name=f"fuzz-{name}")
    tenant = FuzzTenant(owner)
    marker = f"{name}{uuid.uuid4().hex[:8]}"
    res: dict[str, list[str]] = collections.defaultdict(list)

    async def post(path: str, body: dict[str, Any], method: str = "POST") -> dict[str, Any]:
        response = await http.request(method, path, json=body, headers=owner.headers)
        assert response.status_code in (200, 201), f"{path}: {response.text}"
        result: dict[str, Any] = response.json() if response.content else {}
        return result

    workflow = f"flow-{marker}"
    await post("/api/v1/workflows", {**DIAMOND, "name": workflow})
    res["name"].append(workflow)
    for i in range(3):
        res["run_id"].append((await post(f"/api/v1/workflows/{workflow}/runs",
                                         {"input": {"i": i}}))["id"])
    res["task"].extend(t["name"] for t in DIAMOND["tasks"])  # type: ignore[index]
    res["worker_id"].append((await post("/api/v1/workers", {
        "name": f"w-{marker}", "actions": [f"{workflow}:a"], "slots": 2}))["id"])
    res["key_id"].append((await api.create_api_key(http, owner, ["read"]))["id"])
    res["invite_id"].append((await api.create_invite(http, owner))["id"])
    member = await api.add_member(http, owner)  # a member the fuzzer may demote or remove
    res["user_id"].append(member.user_id)
    res["webhook_id"].append((await post("/api/v1/webhooks", {
        "name": f"hook-{marker}", "event_key": f"push:{marker}", "verifier": "hmac-sha256",
        "secret": "s3cret-" + marker}))["id"])
    res["channel_id"].append((await post("/api/v1/alerts/channels", {
        "type": "webhook", "name": f"chan-{marker}", "events": ["run.failed"],
        "config": {"url": "https://alerts.example.com/hook"}}))["id"])
    res["cron_id"].append((await post("/api/v1/crons", {
        "workflow": workflow, "expression": "0 0 1 1 *"}))["id"])
    res["schedule_id"].append((await post("/api/v1/schedules", {
        "workflow": workflow, "at": "2099-01-01T00:00:00Z"}))["id"])
    res["event_id"].append((await post("/api/v1/events", {
        "key": f"order:{marker}", "payload": {"n": 1}}))["id"])
    limit = f"limit-{marker}"
    await post(f"/api/v1/rate-limits/{limit}", {"limit": 10, "window": "minute"}, "PUT")
    res["key"].append(limit)
    tenant.resources = dict(res)
    return tenant


@dataclass
class Tenants:
    a: FuzzTenant
    b: FuzzTenant


@pytest.fixture(scope="module")
async def fuzz_tenants(fuzz_server: LiveServer) -> Tenants:
    async with httpx.AsyncClient(base_url=fuzz_server.url, timeout=30) as http:
        return Tenants(await _seed(http, "a"), await _seed(http, "b"))


@pytest.fixture(scope="module")
def fuzz_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz") / "requests.log"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    from tests.fuzz.tally import TALLY

    for what, count in sorted(TALLY.items()):
        terminalreporter.write_line(f"fuzz: {count} {what}")

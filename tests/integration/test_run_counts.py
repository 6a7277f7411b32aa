"""Runs per status (``GET /api/v1/runs/counts``) and the list's multi-status filter: both honour
the same workflow/time/metadata filters, so the dashboard's chips add up to what the list shows."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx

from tests.support import api, protocol

ONE = {"name": "one", "tasks": [{"name": "only"}]}
OTHER = {"name": "other", "tasks": [{"name": "only"}]}


async def _tenant_with_runs(
    client: httpx.AsyncClient,
) -> tuple[api.Account, dict[str, str], set[str]]:
    """A tenant whose runs of ``one`` are: 1 succeeded, 1 failed, 2 cancelled, 3 queued;
    plus 2 queued runs of ``other`` with ``team:blue`` metadata. Returns run id → status of
    ``one``'s runs and ``other``'s run ids."""
    account = await api.signup(client)
    h = account.headers
    await protocol.register_workflow(client, h, ONE)
    await protocol.register_workflow(client, h, OTHER)
    worker = await protocol.register_worker(client, h, ["one:only"], slots=2)
    first = await protocol.trigger(client, h, "one", metadata={"team": "red"})
    second = await protocol.trigger(client, h, "one", metadata={"team": "red"})
    ok, bad = sorted(await protocol.poll(client, h, worker), key=lambda t: t["run_id"])
    await protocol.succeed(client, h, worker, ok, {"done": True})
    await protocol.report(client, h, worker, [{
        "task_run_id": bad["task_run_id"], "lease_id": bad["lease_id"], "status": "failed",
        "error": "boom", "retryable": False}])
    statuses = {first["id"]: "succeeded", second["id"]: "failed"}
    for _ in range(2):
        run = await protocol.trigger(client, h, "one")
        (await client.post(f"/api/v1/runs/{run['id']}/cancel", headers=h)).raise_for_status()
        statuses[run["id"]] = "cancelled"
    for _ in range(3):
        statuses[(await protocol.trigger(client, h, "one"))["id"]] = "queued"
    others = {(await protocol.trigger(client, h, "other", metadata={"team": "blue"}))["id"]
              for _ in range(2)}
    return account, statuses, others


async def _counts(client: httpx.AsyncClient, account: api.Account, **params: Any) -> Any:
    response = await client.get("/api/v1/runs/counts", params=params, headers=account.headers)
    assert response.status_code == 200, response.text
    return response.json()


async def _listed(client: httpx.AsyncClient, account: api.Account, params: Any) -> set[str]:
    response = await client.get("/api/v1/runs", params=params, headers=account.headers)
    assert response.status_code == 200, response.text
    return {r["id"] for r in response.json()["items"]}


async def test_counts_per_status_follow_the_list_filters(client):
    account, _, _ = await _tenant_with_runs(client)

    every = await _counts(client, account)
    assert every == {"total": 9, "counts": {
        "pending": 0, "queued": 5, "running": 0, "succeeded": 1, "failed": 1, "cancelled": 2}}
    assert (await _counts(client, account, workflow="other"))["counts"]["queued"] == 2
    assert (await _counts(client, account, workflow="one"))["total"] == 7
    red = await _counts(client, account, metadata="team:red")
    assert red["total"] == 2
    assert red["counts"]["succeeded"] == red["counts"]["failed"] == 1
    future = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).isoformat()
    assert (await _counts(client, account, since=future))["total"] == 0
    assert (await _counts(client, account, until=future))["total"] == 9


async def test_list_takes_several_statuses_repeated_or_comma_separated(client):
    account, statuses, others = await _tenant_with_runs(client)
    finished_badly = {i for i, s in statuses.items() if s in ("failed", "cancelled")}

    assert await _listed(client, account, [("status", "failed"), ("status", "cancelled")]) == (
        finished_badly)
    assert await _listed(client, account, {"status": "failed,cancelled"}) == finished_badly
    # The single status= of the public contract is unchanged.
    assert await _listed(client, account, {"status": "succeeded"}) == {
        i for i, s in statuses.items() if s == "succeeded"}
    queued_or_failed = {i for i, s in statuses.items() if s in ("queued", "failed")}
    assert await _listed(client, account, {"status": "queued,failed"}) == queued_or_failed | others
    assert await _listed(client, account, {"status": "queued,failed", "workflow": "one"}) == (
        queued_or_failed)


async def test_unknown_status_or_bad_filter_is_a_clear_422(client):
    account = await api.signup(client)
    for path, params in [
        ("/api/v1/runs", {"status": "failed,exploded"}),
        ("/api/v1/runs", [("status", "queued"), ("status", "nope")]),
        ("/api/v1/runs/counts", {"metadata": "no-colon"}),
        ("/api/v1/runs/counts", {"since": "yesterday"}),
    ]:
        response = await client.get(path, params=params, headers=account.headers)
        assert response.status_code in (400, 422), (params, response.text)
        assert response.json()["error"]["message"]


async def test_counts_see_only_the_callers_tenant(client):
    account, _, _ = await _tenant_with_runs(client)
    stranger = await api.signup(client, tenant_name="Other")
    assert (await _counts(client, stranger))["total"] == 0
    assert (await _counts(client, account))["total"] == 9


async def test_counts_need_a_login(client):
    response = await client.get("/api/v1/runs/counts")
    assert response.status_code == 401

"""``GET /api/v1/stats/overview``: the dashboard's overview figures, computed by the database over
a recent window — runs per status over time, failure rate, p50/p95 duration and queue latency,
per workflow and in total."""

from __future__ import annotations

import datetime as dt
import itertools
import uuid

import pytest

from app.core.ids import uuid7
from app.domain.stats.services import uuid7_floor
from tests.support import api, protocol

ONE = {"name": "one", "tasks": [{"name": "only"}]}
OTHER = {"name": "other", "tasks": [{"name": "only"}]}


async def _overview(client, account, window: str = "1h"):
    response = await client.get("/api/v1/stats/overview", params={"window": window},
                                headers=account.headers)
    assert response.status_code == 200, response.text
    return response.json()


async def _finish(client, h, worker, *, fail: int) -> None:
    """Claim every queued task; fail ``fail`` of them, succeed the rest."""
    tasks = await protocol.poll(client, h, worker)
    for i, task in enumerate(tasks):
        if i < fail:
            await protocol.report(client, h, worker, [{
                "task_run_id": task["task_run_id"], "lease_id": task["lease_id"],
                "status": "failed", "error": "boom", "retryable": False}])
        else:
            await protocol.succeed(client, h, worker, task, {})


async def test_figures_per_workflow_and_in_total(client, owner_db):
    account = await api.signup(client)
    h = account.headers
    await protocol.register_workflow(client, h, ONE)
    await protocol.register_workflow(client, h, OTHER)
    worker = await protocol.register_worker(client, h, ["one:only", "other:only"])
    for _ in range(4):
        await protocol.trigger(client, h, "one")
    await _finish(client, h, worker, fail=1)  # one: 3 succeeded, 1 failed
    await protocol.trigger(client, h, "other")  # stays queued
    # Known durations and waits, written directly: 10 s to run, 2 s in the queue.
    await owner_db.execute("""
        UPDATE workflow_runs SET started_at = finished_at - interval '10 seconds'
        WHERE workflow_name = 'one'""")
    await owner_db.execute("""
        UPDATE task_runs SET queued_at = started_at - interval '2 seconds'
        WHERE started_at IS NOT NULL""")

    body = await _overview(client, account)

    assert body["window"] == "1h"
    assert body["bucket_seconds"] == 60
    one, other = body["workflows"]
    assert one["workflow"] == "one"
    assert (one["runs"], one["succeeded"], one["failed"], one["cancelled"]) == (4, 3, 1, 0)
    assert one["failure_rate"] == pytest.approx(0.25)
    assert one["duration_p50"] == pytest.approx(10)
    assert one["duration_p95"] == pytest.approx(10)
    assert one["queue_p50"] == pytest.approx(2)
    assert (other["workflow"], other["runs"], other["failure_rate"]) == ("other", 1, None)
    assert other["duration_p50"] is None
    assert other["queue_p50"] is None  # never started
    totals = body["totals"]
    assert (totals["workflow"], totals["runs"], totals["failed"]) == (None, 5, 1)
    assert totals["failure_rate"] == pytest.approx(0.25)

    assert len(body["buckets"]) in (60, 61)  # whole minutes covering the hour
    merged: dict[str, int] = {}
    for bucket in body["buckets"]:
        for status, n in bucket["counts"].items():
            merged[status] = merged.get(status, 0) + n
    assert merged == {"succeeded": 3, "failed": 1, "queued": 1}
    starts = [dt.datetime.fromisoformat(b["at"]) for b in body["buckets"]]
    assert all(b - a == dt.timedelta(minutes=1) for a, b in itertools.pairwise(starts))


async def test_runs_before_the_window_are_left_out(client, owner_db):
    account = await api.signup(client)
    h = account.headers
    await protocol.register_workflow(client, h, ONE)
    old = await protocol.trigger(client, h, "one")
    await protocol.trigger(client, h, "one")
    # Move the first run two hours back: id (what the window scans) and creation time.
    two_hours_ago = dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)
    old_id = uuid.UUID(int=uuid7_floor(two_hours_ago).int | 1)
    await owner_db.execute("SET session_replication_role = replica")  # skip FK checks to move ids
    await owner_db.execute("UPDATE task_runs SET run_id = $1 WHERE run_id = $2", old_id,
                           uuid.UUID(old["id"]))
    await owner_db.execute("UPDATE workflow_runs SET id = $1, created_at = $2 WHERE id = $3",
                           old_id, two_hours_ago, uuid.UUID(old["id"]))

    assert (await _overview(client, account, "1h"))["totals"]["runs"] == 1
    assert (await _overview(client, account, "6h"))["totals"]["runs"] == 2


async def test_an_empty_tenant_has_zeros_and_a_full_set_of_buckets(client):
    account = await api.signup(client)
    body = await _overview(client, account, "24h")
    assert body["workflows"] == []
    assert body["totals"]["runs"] == 0
    assert body["totals"]["failure_rate"] is None
    assert body["bucket_seconds"] == 15 * 60
    assert len(body["buckets"]) in (96, 97)
    assert all(b["counts"] == {} for b in body["buckets"])


async def test_another_tenants_runs_do_not_count(client):
    account, stranger = await api.signup(client), await api.signup(client, tenant_name="Other")
    await protocol.register_workflow(client, account.headers, ONE)
    await protocol.trigger(client, account.headers, "one")
    assert (await _overview(client, stranger))["totals"]["runs"] == 0
    assert (await _overview(client, account))["totals"]["runs"] == 1


async def test_unknown_window_is_a_clear_422(client):
    account = await api.signup(client)
    response = await client.get("/api/v1/stats/overview", params={"window": "1y"},
                                headers=account.headers)
    assert response.status_code in (400, 422)
    assert "window must be one of" in response.json()["error"]["message"]


def test_the_window_floor_is_below_every_later_id():
    now = dt.datetime.now(dt.UTC)
    assert uuid7_floor(now - dt.timedelta(milliseconds=1)) < uuid7()
    assert uuid7_floor(now + dt.timedelta(seconds=1)) > uuid7()


async def test_concurrency_usage_counts_held_slots_and_waiting_runs_per_key(client):
    account = await api.signup(client)
    h = account.headers
    await protocol.register_workflow(client, h, {
        "name": "capped", "tasks": [{"name": "t"}],
        "concurrency": [{"expression": "input.key", "max_runs": 1}]})
    worker = await protocol.register_worker(client, h, ["capped:t"])
    for key in ["a", "a", "a", "b"]:
        await protocol.trigger(client, h, "capped", {"key": key})
    assert len(await protocol.poll(client, h, worker)) == 2  # one per key

    response = await client.get("/api/v1/stats/concurrency", headers=h)
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert [(i["key"], i["value"], i["running"], i["queued"]) for i in items] == [
        ("capped#0=a", "a", 1, 2), ("capped#0=b", "b", 1, 0)]
    assert items[0]["max_runs"] == 1
    assert items[0]["scope"] == "run"
    assert items[0]["strategy"] == "GROUP_ROUND_ROBIN"

    stranger = await api.signup(client, tenant_name="Other")
    response = await client.get("/api/v1/stats/concurrency", headers=stranger.headers)
    assert response.json() == {"items": []}

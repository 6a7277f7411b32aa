"""Tenant fairness: claims are per tenant, so a tenant with a huge backlog and no free worker slots
does not slow another tenant down. Tenant A gets 50,000 queued tasks (inserted with SQL, plain
and flow-controlled); tenant B's single task must start about as fast as on an empty database —
compared within this test, against a tolerance, not an absolute time."""

from __future__ import annotations

import contextlib
import json
import statistics
import time
import uuid
from typing import Any

import asyncpg
import pytest

from app.engine import queries
from tests.support import api, flow
from tests.support import protocol as p

BACKLOG = 50_000
ROUNDS = 25


@pytest.fixture
def settings(settings):
    return settings.model_copy(update={"run_loops": False})


async def admin_key(client, name: str):  # type: ignore[no-untyped-def]
    account = await api.signup(client, tenant_name=name)
    created = await api.create_api_key(client, account, scopes=["admin"])
    return account, api.bearer(created["key"])


async def start_latency(client, key, worker: str, workflow: str) -> float:  # type: ignore[no-untyped-def]
    """Median seconds from triggering one run to its task being claimed."""
    samples = []
    for _ in range(ROUNDS):
        began = time.perf_counter()
        run = await p.trigger(client, key, workflow, {"k": "b"})
        (task,) = await p.poll(client, key, worker, max_tasks=10)
        samples.append(time.perf_counter() - began)
        assert task["run_id"] == run["id"]
        await p.succeed(client, key, worker, task, {})
    return statistics.median(samples)


async def backlog(owner_db, tenant_id: str, workflow: str, flow_controlled: bool) -> None:  # type: ignore[no-untyped-def]
    """``BACKLOG`` queued runs of ``workflow`` for one tenant, written the way the trigger
    writes them (runs, task rows, queue rows), in three statements."""
    tenant = uuid.UUID(tenant_id)
    version = await owner_db.fetchrow(
        "select w.id as workflow_id, v.id as version_id from workflows w join workflow_versions v"
        " on v.workflow_id = w.id and v.version = w.latest_version"
        " where w.tenant_id = $1 and w.name = $2", tenant, workflow)
    flow_value = json.dumps({"c": [{"k": f"{workflow}#0=a", "v": "a", "m": 1,
                                    "s": "GROUP_ROUND_ROBIN", "o": "run"}],
                             "gr": f"{workflow}#0=a", "r": []}) if flow_controlled else None
    queue = (
        "insert into flow_queue (tenant_id, action, group_key, rank, task_run_id, run_id, flow)"
        " select tenant_id, action, flow->>'gr', now(), id, run_id, flow from tasks"
        if flow_controlled else
        "insert into queue_items (tenant_id, action, priority, task_run_id, rank)"
        " select tenant_id, action, 2, id, now() from tasks")
    await owner_db.execute(
        "with runs as (insert into workflow_runs (tenant_id, id, workflow_id, version_id,"
        " workflow_name, status, input, pending_tasks) select $1, gen_random_uuid(), $2, $3, $4,"
        " 'queued', jsonb_build_object('k', 'a'), 1 from generate_series(1, $5)"
        " returning tenant_id, id),"
        " tasks as (insert into task_runs (tenant_id, id, run_id, task_name, action, status,"
        " max_attempts, pending_parents, queued_at, is_leaf, flow) select tenant_id,"
        " gen_random_uuid(), id, 't', $6, 'queued', 1, 0, now(), true, $7::jsonb from runs"
        " returning tenant_id, id, run_id, action, flow) " + queue,
        tenant, version["workflow_id"], version["version_id"], workflow, BACKLOG,
        f"{workflow}:t", flow_value)
    # Settle the 100,000 fresh rows (statistics, hint bits, dirty pages) before measuring, so
    # the comparison is about the claim and not about background writes of the insert.
    await owner_db.execute("vacuum analyze workflow_runs, task_runs, queue_items, flow_queue")
    with contextlib.suppress(asyncpg.InsufficientPrivilegeError):  # a non-superuser owner
        await owner_db.execute("checkpoint")


@pytest.mark.parametrize("flow_controlled", [False, True], ids=["plain", "concurrency"])
async def test_a_huge_backlog_of_another_tenant_does_not_slow_a_tenant(
    client, owner_db, flow_controlled
):
    definition: dict[str, object] = {"name": "work", "tasks": [{"name": "t"}]}
    if flow_controlled:
        definition["concurrency"] = [{"expression": "input.k", "max_runs": 1}]
    a, a_key = await admin_key(client, "A")
    _, b_key = await admin_key(client, "B")
    for key in (a_key, b_key):
        await p.register_workflow(client, key, definition)
    b_worker = await flow.worker(client, b_key, ["work:t"], slots=10)

    await start_latency(client, b_key, b_worker, "work")  # warm up pools and caches
    empty = await start_latency(client, b_key, b_worker, "work")

    # A: a worker whose only slot is busy, and 50,000 tasks queued behind it.
    a_worker = await flow.worker(client, a_key, ["work:t"], slots=1)
    await p.trigger(client, a_key, "work", {"k": "a"})
    assert len(await p.poll(client, a_key, a_worker)) == 1
    await backlog(owner_db, a.tenant_id, "work", flow_controlled)
    queued = "flow_queue" if flow_controlled else "queue_items"
    assert await owner_db.fetchval(f"select count(*) from {queued} where tenant_id = $1",
                                   uuid.UUID(a.tenant_id)) == BACKLOG

    await start_latency(client, b_key, b_worker, "work")  # warm up again
    loaded = await start_latency(client, b_key, b_worker, "work")

    assert loaded <= empty * 1.5 + 0.015, (
        f"B's median trigger-to-start went from {empty * 1000:.1f} ms on an empty database to "
        f"{loaded * 1000:.1f} ms beside A's {BACKLOG:,} queued tasks")
    # A's backlog is untouched and still waits for A's worker.
    assert await owner_db.fetchval(f"select count(*) from {queued} where tenant_id = $1",
                                   uuid.UUID(a.tenant_id)) == BACKLOG


async def explain(owner_db, sql: str, *args: object) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """EXPLAIN ANALYZE of a statement that writes, rolled back."""
    transaction = owner_db.transaction()
    await transaction.start()
    try:
        plan: dict[str, Any] = json.loads(await owner_db.fetchval(
            "explain (analyze, buffers, format json) " + sql, *args))[0]
        return plan
    finally:
        await transaction.rollback()


def scans(node: dict[str, Any]) -> list[dict[str, Any]]:
    found = [node] if "Relation Name" in node and node["Node Type"] != "ModifyTable" else []
    for child in node.get("Plans", []):
        found += scans(child)
    return found


async def test_the_claim_reads_only_the_callers_rows(client, owner_db):
    """EXPLAIN ANALYZE of B's claims (plain and flow lane) beside A's 50,000 + 50,000 queued
    tasks: index scans whose condition starts with B's tenant id, a few buffers in all."""
    a, a_key = await admin_key(client, "A")
    b, b_key = await admin_key(client, "B")
    for key in (a_key, b_key):
        await p.register_workflow(client, key, {"name": "plain", "tasks": [{"name": "t"}]})
        await p.register_workflow(client, key, {"name": "keyed", "tasks": [{"name": "t"}],
                                                "concurrency": [{"expression": "input.k",
                                                                 "max_runs": 1}]})
    await backlog(owner_db, a.tenant_id, "plain", flow_controlled=False)
    await backlog(owner_db, a.tenant_id, "keyed", flow_controlled=True)
    await p.trigger(client, b_key, "plain", {"k": "b"})
    await p.trigger(client, b_key, "keyed", {"k": "b"})
    worker = uuid.UUID(await flow.worker(client, b_key, ["plain:t", "keyed:t"]))
    tenant = uuid.UUID(b.tenant_id)

    plans = {
        "claim": await explain(owner_db, queries.get("claim"), tenant, ["plain:t", "keyed:t"],
                               10, worker, 30.0),
        "flow_candidates": await explain(owner_db, queries.get("flow_candidates"), tenant,
                                         ["plain:t", "keyed:t"], ["", ""], 32, 16, 10),
    }
    for name, plan in plans.items():
        for scan in scans(plan["Plan"]):
            where = f"{name}: {scan['Node Type']} on {scan['Relation Name']}"
            assert scan["Node Type"] in ("Index Scan", "Index Only Scan"), where
            # B's id, or the tenant of rows already found with it (a join on the primary key).
            assert scan["Index Cond"].lstrip("(").startswith("tenant_id = "), (
                where, scan["Index Cond"])
        total = plan["Plan"]["Shared Hit Blocks"] + plan["Plan"]["Shared Read Blocks"]
        assert total < 200, (name, total)
    assert json.dumps(plans["claim"]).count('"Actual Rows": 1') >= 1  # B's plain task found

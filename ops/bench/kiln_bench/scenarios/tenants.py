"""tenants: many tenants with a backlog; a few sampled tenants' workers vs the single-tenant case.

Setup: ``--sampled`` tenants are made through HTTP (sign-up, API keys) and run one worker
process each; the other tenants (up to ``--tenants``) are inserted with SQL as the database
owner, each with the ``noop`` workflow and a backlog of ``--tenant-backlog`` queued tasks that
nobody drains (no workers), so every claim runs next to ~tenants x backlog foreign queue rows.
Measured: each sampled tenant drains ``--tenant-runs`` tasks, all at once, then probes latency;
the baseline is one tenant alone on a fresh database doing the same with one worker.
"""

from __future__ import annotations

import asyncio
import statistics
import time

from kiln_bench import drain, live
from kiln_bench.bench import Bench, Stack
from kiln_bench.report import Row, ms

NAME = "tenants"
PROBES = 20
TENANT_BATCH = 100

BACKGROUND = """
WITH src AS (
  SELECT v.checksum, v.definition FROM workflows w
  JOIN workflow_versions v ON v.tenant_id = w.tenant_id AND v.workflow_id = w.id
    AND v.version = w.latest_version
  WHERE w.tenant_id = $1 AND w.name = 'noop'
), tenants AS (
  INSERT INTO tenants (id, name) SELECT uuidv7(), 'bench-background-' || g
  FROM generate_series(1, $2) g RETURNING id
), wfs AS (
  INSERT INTO workflows (tenant_id, id, name, latest_version)
  SELECT id, uuidv7(), 'noop', 1 FROM tenants RETURNING tenant_id, id
), versions AS (
  INSERT INTO workflow_versions (tenant_id, id, workflow_id, version, checksum, definition)
  SELECT wfs.tenant_id, uuidv7(), wfs.id, 1, src.checksum, src.definition FROM wfs, src
  RETURNING tenant_id, id, workflow_id
), runs AS (
  INSERT INTO workflow_runs (tenant_id, id, workflow_id, version_id, workflow_name, status,
    pending_tasks)
  SELECT v.tenant_id, uuidv7(), v.workflow_id, v.id, 'noop', 'queued', 1
  FROM versions v CROSS JOIN generate_series(1, $3) RETURNING tenant_id, id
), tasks AS (
  INSERT INTO task_runs (tenant_id, id, run_id, task_name, action, status, max_attempts,
    pending_parents, is_leaf, queued_at)
  SELECT tenant_id, uuidv7(), id, 'noop', 'noop:noop', 'queued', 1, 0, true, now() FROM runs
  RETURNING tenant_id, id
)
INSERT INTO queue_items (tenant_id, action, priority, task_run_id)
SELECT tenant_id, 'noop:noop', 2, id FROM tasks
"""


async def _background(bench: Bench, stack: Stack, tenants: int, backlog: int) -> float:
    started = time.monotonic()
    made = 0
    while made < tenants:
        size = min(TENANT_BATCH, tenants - made)
        await stack.conn.execute(BACKGROUND, stack.tenant.id, size, backlog)
        made += size
        bench.status(f"{NAME}: {made:,}/{tenants:,} background tenants with {backlog} queued")
    await stack.conn.execute("VACUUM ANALYZE tenants, workflow_runs, task_runs, queue_items")
    return time.monotonic() - started


async def _drain_sampled(bench: Bench, stacks: list[Stack], runs: int) -> list[float]:
    """Every sampled tenant triggers ``runs`` at once; tasks/s of each tenant."""
    conn = stacks[0].conn
    ids = [s.tenant.id for s in stacks]
    started = time.time()
    triggers = [asyncio.create_task(drain.trigger_all(s, "noop", runs, 1)) for s in stacks]
    deadline = time.monotonic() + drain.STALL_SECONDS * 5
    while True:
        done = await conn.fetchval(
            "select count(*) from workflow_runs where tenant_id = any($1::uuid[])"
            " and workflow_name = 'noop' and status = 'succeeded'", ids)
        bench.status(f"{NAME}: sampled tenants finished {done:,}/{runs * len(stacks):,}")
        if done >= runs * len(stacks):
            break
        if time.monotonic() > deadline:
            raise TimeoutError(f"{NAME}: sampled tenants did not finish ({done:,} done)")
        await asyncio.sleep(0.2)
    await asyncio.gather(*triggers)
    rows = await conn.fetch(
        "select tenant_id, extract(epoch from max(finished_at))::float8 as last from task_runs"
        " where tenant_id = any($1::uuid[]) and task_name = 'noop' group by tenant_id", ids)
    return [round(runs / (r["last"] - started), 1) for r in rows]


async def run(bench: Bench) -> None:
    opts = bench.options
    runs, sampled = opts.tenant_runs, opts.sampled
    async with bench.stack(f"{NAME}-single", workflows="noop,probe") as single:
        alone = await drain.drain(single, "noop", runs, callers=1, label=f"{NAME} single")
        alone_probes = await drain.probe_many(single, PROBES * sampled, f"{NAME} single")
    async with bench.stack(NAME, workflows="noop,probe") as first:
        stacks = [first]
        for index in range(1, sampled):
            tenant = await live.make_tenant(first.server, f"bench-sampled-{index}")
            worker = live.start_worker(bench.procs, first.server, tenant, workflows="noop,probe",
                                       slots=opts.slots, name=f"{NAME}-{index}")
            first.workers.append(worker)
            stacks.append(Stack(bench, first.server, tenant, [worker], first.conn, first.http))
        await live.wait_workers(bench.cluster, first.server.database,
                                [s.tenant.id for s in stacks], first.workers)
        background = opts.tenants - sampled
        setup = await _background(bench, first, background, opts.tenant_backlog)
        per_tenant = await _drain_sampled(bench, stacks, runs)
        probes = []
        for stack in stacks:
            result = await drain.probe_many(stack, PROBES, f"{NAME} probes {stack.tenant.name}")
            probes.extend(result["db_trigger_to_start"])
        queued = await first.conn.fetchval("select count(*) from queue_items")
    many, one = ms(probes), ms(alone_probes["db_trigger_to_start"])
    mean = round(statistics.mean(per_tenant), 1)
    aggregate = round(sum(per_tenant), 1)
    bench.status.done(f"per tenant {mean:,.0f}/s (alone {alone['per_s']:,.0f}/s)")
    bench.record(NAME, "kiln", {
        "tenants": opts.tenants, "sampled": sampled, "backlog_per_tenant": opts.tenant_backlog,
        "foreign_queue_rows": queued, "setup_seconds": round(setup, 1), "runs_per_tenant": runs,
        "per_tenant_per_s": per_tenant, "aggregate_per_s": aggregate,
        "trigger_to_start_ms": many, "single": {**alone, "trigger_to_start_ms": one}}, [
        Row(NAME, "kiln", f"single tenant: {runs:,} tasks, 1 worker", alone["per_s"], "tasks/s"),
        Row(NAME, "kiln", f"{sampled} of {opts.tenants:,} tenants: per tenant (mean)", mean,
            "tasks/s", f"aggregate {aggregate:,.0f}/s; {queued:,} queue rows"),
        Row(NAME, "kiln", "single tenant: trigger→start p50", one["p50"], "ms",
            f"p99 {one['p99']} ms"),
        Row(NAME, "kiln", f"{sampled} of {opts.tenants:,} tenants: trigger→start p50", many["p50"],
            "ms", f"p99 {many['p99']} ms"),
    ])

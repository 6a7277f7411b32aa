"""depth: throughput with many delayed (not yet due) items in the database vs none.

The delayed items are pending retries — ``task_runs`` rows with status ``pending``,
``wait_reason 'retry'`` and ``retry_at`` a day ahead, each with its ``running`` workflow run —
inserted in bulk with SQL as the database owner (a superuser: it writes past RLS), in batches of
100,000, then ``VACUUM ANALYZE``. They belong to the ``probe`` workflow of the same tenant, so
the ``noop`` drain is measured alone. (Scheduled runs do not exist in the API yet; when they do,
make the delayed items scheduled runs too.)
"""

from __future__ import annotations

import time

from kiln_bench import drain
from kiln_bench.bench import Bench, Stack
from kiln_bench.report import Row

NAME = "depth"
BATCH = 100_000

INSERT_RUNS = """
INSERT INTO workflow_runs (tenant_id, id, workflow_id, version_id, workflow_name, status,
  pending_tasks, started_at)
SELECT w.tenant_id, {uuid}, w.id, v.id, w.name, 'running', 1, now()
FROM workflows w
JOIN workflow_versions v ON v.tenant_id = w.tenant_id AND v.workflow_id = w.id
  AND v.version = w.latest_version
CROSS JOIN generate_series(1, $2)
WHERE w.tenant_id = $1 AND w.name = 'probe'
RETURNING id
"""

INSERT_TASKS = """
INSERT INTO task_runs (tenant_id, id, run_id, task_name, action, status, attempt, max_attempts,
  pending_parents, is_leaf, retry_at, wait_reason, error, queued_at, started_at)
SELECT $1, {uuid}, r.id, 'probe', 'probe:probe', 'pending', 1, 3, 0, true,
  now() + interval '1 day' + random() * interval '1 day', 'retry', 'bench: delayed retry',
  now(), now()
FROM unnest($2::uuid[]) AS r(id)
"""


async def add_delayed(stack: Stack, total: int) -> float:
    """Insert ``total`` delayed retries; return the seconds it took."""
    started = time.monotonic()
    version = await stack.conn.fetchval("show server_version_num")
    uuid = "uuidv7()" if int(version) >= 180000 else "gen_random_uuid()"
    done = 0
    while done < total:
        size = min(BATCH, total - done)
        async with stack.conn.transaction():
            ids = [r["id"] for r in await stack.conn.fetch(
                INSERT_RUNS.format(uuid=uuid), stack.tenant.id, size)]
            await stack.conn.execute(INSERT_TASKS.format(uuid=uuid), stack.tenant.id, ids)
        done += size
        stack.bench.status(f"{NAME}: inserted {done:,}/{total:,} delayed retries")
    stack.bench.status(f"{NAME}: vacuum analyze…", force=True)
    await stack.conn.execute("VACUUM ANALYZE workflow_runs, task_runs")
    return time.monotonic() - started


async def run(bench: Bench) -> None:
    opts = bench.options
    async with bench.stack(f"{NAME}-empty", workflows="noop,probe") as stack:
        empty = await drain.drain(stack, "noop", opts.n, callers=opts.callers,
                                  label=f"{NAME} empty")
    async with bench.stack(f"{NAME}-deep", workflows="noop,probe") as stack:
        insert_seconds = await add_delayed(stack, opts.depth_items)
        deep = await drain.drain(stack, "noop", opts.n, callers=opts.callers,
                                 label=f"{NAME} with {opts.depth_items:,} delayed")
        left = await stack.conn.fetchval(
            "select count(*) from task_runs where status = 'pending' and retry_at > now()")
    ratio = round(deep["per_s"] / empty["per_s"], 3)
    bench.status.done(f"{deep['per_s']:,.0f} vs {empty['per_s']:,.0f} tasks/s ({ratio:.0%})")
    bench.record(NAME, "kiln", {
        "delayed_items": opts.depth_items, "delayed_left": left,
        "insert_seconds": round(insert_seconds, 1), "empty": empty, "deep": deep,
        "ratio": ratio}, [
        Row(NAME, "kiln", f"{opts.n:,} tasks, empty", empty["per_s"], "tasks/s"),
        Row(NAME, "kiln", f"{opts.n:,} tasks, {opts.depth_items:,} delayed", deep["per_s"],
            "tasks/s", f"inserted in {insert_seconds:.0f}s"),
        Row(NAME, "kiln", "deep / empty", ratio, "x", "target ≥ 0.80"),
    ])

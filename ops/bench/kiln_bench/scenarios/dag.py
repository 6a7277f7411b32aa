"""dag: a 4-task diamond (a → b, c → d): runs/s in bulk, and end-to-end times.

Two figures: runs/s with N runs triggered in bulk (their end-to-end p50 is mostly queueing), and
the p50 end-to-end of runs triggered one at a time on an idle system (the DAG's own overhead:
three hand-offs between tasks).
"""

from __future__ import annotations

import asyncio
import time

from kiln_bench import drain, live, profiling
from kiln_bench.bench import Bench, Stack
from kiln_bench.report import Row, ms

NAME = "dag"


async def _sequential(stack: Stack, runs: int) -> dict[str, list[float]]:
    client = []
    ids = []
    for index in range(runs):
        t0 = time.time()
        run_id = await live.trigger_one(stack.http, stack.tenant, "diamond", {})
        while True:
            reply = await stack.http.get(f"/api/v1/runs/{run_id}", headers=stack.tenant.headers)
            if reply.json()["status"] in drain.TERMINAL:
                break
            await asyncio.sleep(0)
        client.append(time.time() - t0)
        ids.append(run_id)
        stack.bench.status(f"{NAME}: one at a time {index + 1}/{runs}")
    rows = await stack.conn.fetch(
        "select extract(epoch from finished_at - created_at)::float8 as e2e from workflow_runs"
        " where id = any($1::uuid[])", ids)
    return {"db": [r["e2e"] for r in rows], "client": client}


async def run(bench: Bench) -> None:
    opts = bench.options
    async with bench.stack(NAME, workflows="diamond") as stack:
        sequential = await _sequential(stack, opts.dag_sequential)
        async with profiling.around(bench, stack, opts.dag_runs * 4, NAME) as profile:
            bulk = await drain.drain(stack, "diamond", opts.dag_runs, callers=opts.callers,
                                     label=NAME)
        rows = await stack.conn.fetch(
            "select extract(epoch from finished_at - created_at)::float8 as e2e"
            " from workflow_runs where workflow_name = 'diamond' order by id"
            " offset $1", opts.dag_sequential)
    bulk_e2e = ms([r["e2e"] for r in rows])
    alone_db, alone_client = ms(sequential["db"]), ms(sequential["client"])
    data = {**bulk, "profile": profile, "bulk_e2e_ms": bulk_e2e,
            "sequential_runs": opts.dag_sequential, "sequential_db_e2e_ms": alone_db,
            "sequential_client_e2e_ms": alone_client}
    bench.status.done(f"{bulk['per_s']:,.0f} runs/s; alone p50 {alone_db['p50']} ms")
    bench.record(NAME, "kiln", data, [
        Row(NAME, "kiln", f"{opts.dag_runs:,} diamond runs in bulk", bulk["per_s"], "runs/s",
            f"{bulk['per_s'] * 4:,.0f} tasks/s; cores {bulk['cpu_cores']}"),
        Row(NAME, "kiln", "bulk: run end-to-end p50", bulk_e2e["p50"], "ms",
            f"p99 {bulk_e2e['p99']} ms (queueing)"),
        Row(NAME, "kiln", "one at a time: end-to-end p50 (db)", alone_db["p50"], "ms",
            f"p99 {alone_db['p99']} ms"),
        Row(NAME, "kiln", "one at a time: result seen by client p50", alone_client["p50"], "ms",
            f"p99 {alone_client['p99']} ms"),
    ])

"""fanout: one run of a workflow with 1 root task and many parallel tasks depending on it.

TODO(child workflows): the issue asks for one parent *spawning 1,000 child runs*; child-workflow
spawning (``ctx.spawn``) is not built yet. Switch to real children when it exists. Meanwhile this
measures the nearest thing that exists — and a workflow is limited to 500 tasks by the server
(docs/protocol.md), so it is 1 root + 499 children, not 1 + 1,000.
"""

from __future__ import annotations

import time

from kiln_bench import drain, live
from kiln_bench.bench import Bench
from kiln_bench.report import Row, ms

NAME = "fanout"
CHILDREN = 499  # the server's 500-tasks-per-workflow limit, minus the root


async def run(bench: Bench) -> None:
    opts = bench.options
    async with bench.stack(NAME, workflows="fanout",
                           worker_args=["--children", str(CHILDREN)]) as stack:
        client = []
        ids = []
        for index in range(opts.fanout_runs):
            t0 = time.time()
            ids.append(await live.trigger_one(stack.http, stack.tenant, "fanout", {}))
            await drain.wait_finished(stack, "fanout", index + 1,
                                      f"{NAME} run {index + 1}/{opts.fanout_runs}")
            client.append(time.time() - t0)
        rows = await stack.conn.fetch(
            "select extract(epoch from r.finished_at - r.created_at)::float8 as e2e,"
            " extract(epoch from max(t.finished_at) filter (where t.task_name = 'root')"
            "   - r.created_at)::float8 as root_done, r.status"
            " from workflow_runs r join task_runs t on t.tenant_id = r.tenant_id"
            " and t.run_id = r.id where r.id = any($1::uuid[])"
            " group by r.tenant_id, r.id", ids)
    e2e = ms([r["e2e"] for r in rows])
    root = ms([r["root_done"] for r in rows])
    tasks = CHILDREN + 1
    per_s = round(tasks / (e2e["p50"] / 1000), 1)
    data = {"label": f"1 root + {CHILDREN} parallel tasks in one run (not child runs)",
            "runs": opts.fanout_runs, "tasks_per_run": tasks, "e2e_ms": e2e,
            "root_done_ms": root, "tasks_per_s_p50": per_s,
            "client_e2e_ms": ms(client),
            "failed": sum(r["status"] != "succeeded" for r in rows)}
    bench.status.done(f"1+{CHILDREN} tasks in {e2e['p50']} ms (p50)")
    bench.record(NAME, "kiln", data, [
        Row(NAME, "kiln", f"1 root + {CHILDREN} parallel tasks: run e2e p50", e2e["p50"], "ms",
            f"{opts.fanout_runs} runs; {per_s:,.0f} tasks/s; not child runs (TODO ctx.spawn)"),
    ])

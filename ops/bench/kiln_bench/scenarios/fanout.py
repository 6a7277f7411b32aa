"""fanout: one parent spawning 1,000 child runs; and one run of 1 root + 499 parallel tasks.

* children: a ``spawner`` task calls ``ctx.aio_spawn_many(noop, [{}] * --fanout-children)``
  (one ``POST /workers/{id}/spawn``, ≤1,000 children) and returns without waiting; measured from
  the parent run's creation to the last child's completion (``workflow_runs.parent_run_id``).
* dag: one workflow run whose root task has 499 parallel children (a workflow has at most 500
  tasks, docs/protocol.md); measured from the run's creation to its completion.

Both are run ``--fanout-runs`` times, one at a time, by one worker process.
"""

from __future__ import annotations

import asyncio
import time

from kiln_bench import drain, live
from kiln_bench.bench import Bench, Stack
from kiln_bench.report import Row, ms

NAME = "fanout"
DAG_CHILDREN = 499  # the server's 500-tasks-per-workflow limit, minus the root


async def _children(bench: Bench, stack: Stack, children: int) -> list[float]:
    seconds = []
    for index in range(bench.options.fanout_runs):
        parent = await live.trigger_one(stack.http, stack.tenant, "spawner",
                                        {"children": children})
        deadline = time.monotonic() + drain.STALL_SECONDS
        while True:
            row = await stack.conn.fetchrow(
                "select count(*) filter (where status = 'succeeded') as done,"
                " extract(epoch from max(finished_at) - (select created_at from workflow_runs"
                "   where id = $1))::float8 as last"
                " from workflow_runs where parent_run_id = $1", parent)
            bench.status(f"{NAME}: parent {index + 1}: children done {row['done']}/{children}")
            if row["done"] >= children:
                seconds.append(row["last"])
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"{NAME}: {row['done']}/{children} children after "
                                   f"{drain.STALL_SECONDS:.0f}s")
            await asyncio.sleep(0.05)
    return seconds


async def _dag(bench: Bench, stack: Stack) -> list[float]:
    ids = []
    for index in range(bench.options.fanout_runs):
        ids.append(await live.trigger_one(stack.http, stack.tenant, "fanout", {}))
        await drain.wait_finished(stack, "fanout", index + 1,
                                  f"{NAME} 1+{DAG_CHILDREN} run {index + 1}")
    rows = await stack.conn.fetch(
        "select extract(epoch from finished_at - created_at)::float8 as e2e from workflow_runs"
        " where id = any($1::uuid[]) and status = 'succeeded'", ids)
    return [r["e2e"] for r in rows]


async def run(bench: Bench) -> None:
    opts = bench.options
    children = opts.fanout_children
    async with bench.stack(NAME, workflows="spawner,noop,fanout",
                           worker_args=["--children", str(DAG_CHILDREN)]) as stack:
        spawned = ms(await _children(bench, stack, children))
        dag = ms(await _dag(bench, stack))
    spawn_rate = round(children / (spawned["p50"] / 1000), 1)
    dag_rate = round((DAG_CHILDREN + 1) / (dag["p50"] / 1000), 1)
    bench.status.done(f"{children} children in {spawned['p50']} ms; 1+{DAG_CHILDREN} tasks in "
                      f"{dag['p50']} ms (p50)")
    bench.record(NAME, "kiln", {
        "runs": opts.fanout_runs, "children": children, "children_e2e_ms": spawned,
        "children_per_s_p50": spawn_rate, "dag_tasks": DAG_CHILDREN + 1, "dag_e2e_ms": dag,
        "dag_tasks_per_s_p50": dag_rate}, [
        Row(NAME, "kiln", f"parent spawning {children:,} child runs → all done, p50",
            spawned["p50"], "ms", f"{opts.fanout_runs} runs; {spawn_rate:,.0f} children/s"),
        Row(NAME, "kiln", f"1 root + {DAG_CHILDREN} parallel tasks (one run), p50", dag["p50"],
            "ms", f"{dag_rate:,.0f} tasks/s"),
    ])

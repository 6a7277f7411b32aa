"""Trigger many runs in bulk and time them until the last one finished; probe single runs.

Times: the first trigger is taken on the client's wall clock just before the first request; the
last completion is ``max(task_runs.finished_at)`` from the database. Both clocks are this host's
(the bench runs Postgres locally), so the difference is end-to-end time.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from kiln_bench import live
from kiln_bench.bench import Stack

TERMINAL = ("succeeded", "failed", "cancelled")
STALL_SECONDS = 60.0


async def counts(stack: Stack, workflow: str) -> tuple[int, int, int]:
    """(runs, finished runs, failed runs) of ``workflow``."""
    row = await stack.conn.fetchrow(
        "select count(*) as total,"
        " count(*) filter (where status = any($2::text[])) as done,"
        " count(*) filter (where status = 'failed') as failed"
        " from workflow_runs where workflow_name = $1", workflow, list(TERMINAL))
    return row["total"], row["done"], row["failed"]


async def trigger_all(stack: Stack, workflow: str, n: int, callers: int,
                      make_input: Any = None, sent: list[int] | None = None) -> float:
    """Trigger ``n`` runs, ≤1,000 per request, from ``callers`` concurrent callers; return the
    wall-clock time the first request was about to be sent."""
    chunks = [min(1000, n - start) for start in range(0, n, 1000)]
    progress = sent if sent is not None else [0]

    async def caller() -> None:
        while chunks:
            size = chunks.pop()
            value = make_input() if make_input else {}
            await live.trigger_bulk(stack.http, stack.tenant, workflow, [value] * size)
            progress[0] += size

    started = time.time()
    await asyncio.gather(*(caller() for _ in range(max(1, callers))))
    return started


async def wait_finished(stack: Stack, workflow: str, expected: int, label: str,
                        sent: list[int] | None = None) -> int:
    """Wait until ``expected`` runs of ``workflow`` are finished; return how many failed.
    Raises if no task of the workflow finishes for a minute (a DAG's runs all finish late:
    its roots go first)."""
    status = stack.bench.status
    last_done, last_tasks, last_change = -1, -1, time.monotonic()
    started = time.monotonic()
    while True:
        _, done, failed = await counts(stack, workflow)
        now = time.monotonic()
        if done != last_done:
            last_done, last_change = done, now
        elif now - last_change > 5:  # no run finished lately: are its tasks moving?
            tasks = await stack.conn.fetchval(
                "select count(*) from task_runs t join workflow_runs r on r.tenant_id ="
                " t.tenant_id and r.id = t.run_id where r.workflow_name = $1"
                " and t.finished_at is not null", workflow)
            if tasks != last_tasks:
                last_tasks, last_change = tasks, now
            elif now - last_change > STALL_SECONDS:
                raise TimeoutError(f"{label}: no task finished for {STALL_SECONDS:.0f}s "
                                   f"({done}/{expected} runs done)")
        rate = done / max(now - started, 1e-6)
        triggered = f"triggered {sent[0]:,}, " if sent is not None else ""
        status(f"{label}: {triggered}finished {done:,}/{expected:,} ({rate:,.0f}/s)")
        if done >= expected:
            return int(failed)
        await asyncio.sleep(0.2)


async def drain(stack: Stack, workflow: str, n: int, *, callers: int, label: str,
                make_input: Any = None) -> dict[str, Any]:
    """Trigger ``n`` runs while the workers drain them; runs/s from the first trigger to the
    last task's completion, and the CPU the processes used meanwhile."""
    _, before, _ = await counts(stack, workflow)
    sent = [0]
    meter = stack.cpu()
    meter.start()
    clock = time.monotonic()
    trigger = asyncio.create_task(trigger_all(stack, workflow, n, callers, make_input, sent))
    try:
        if stack.bench.options.analyze:
            await trigger  # all queued first, then fresh statistics (replans cached plans)
            await stack.conn.execute("ANALYZE workflow_runs, task_runs, queue_items")
        failed = await wait_finished(stack, workflow, before + n, label, sent)
        started = await trigger
    finally:
        trigger.cancel()
    cores = meter.stop(time.monotonic() - clock)
    row = await stack.conn.fetchrow(
        "select extract(epoch from max(t.finished_at))::float8 as last_finish,"
        " extract(epoch from max(r.created_at))::float8 as last_created"
        " from workflow_runs r join task_runs t on t.tenant_id = r.tenant_id and t.run_id = r.id"
        " where r.workflow_name = $1", workflow)
    seconds = row["last_finish"] - started
    return {
        "n": n, "seconds": round(seconds, 3), "per_s": round(n / seconds, 1),
        "trigger_seconds": round(row["last_created"] - started, 3), "failed": failed,
        "cpu_cores": cores,
    }


async def probe_once(stack: Stack, workflow: str = "probe") -> dict[str, Any]:
    """One run, alone: trigger it, then GET it until it succeeded (no sleep between GETs, so
    the client-observed time is accurate to one GET round trip)."""
    t0 = time.time()
    run_id = await live.trigger_one(stack.http, stack.tenant, workflow, {"t0": t0})
    while True:
        reply = await stack.http.get(f"/api/v1/runs/{run_id}", headers=stack.tenant.headers)
        reply.raise_for_status()
        run = reply.json()
        if run["status"] in TERMINAL:
            break
        await asyncio.sleep(0)
    done = time.time()
    output = (run.get("output") or {}).get(workflow) or {}
    return {"id": run_id, "status": run["status"], "client_result": done - t0,
            "worker_start": output["t"] - t0 if "t" in output else None}


async def probe_many(stack: Stack, runs: int, label: str, gap: float = 0.005) -> dict[str, Any]:
    """``runs`` probes one at a time; client-side times plus the database's own:
    trigger → task start is ``task_runs.started_at - workflow_runs.created_at``."""
    probes = []
    for index in range(runs):
        probes.append(await probe_once(stack))
        stack.bench.status(f"{label}: probe {index + 1}/{runs}")
        await asyncio.sleep(gap)
    rows = await stack.conn.fetch(
        "select extract(epoch from t.started_at - r.created_at)::float8 as to_start,"
        " extract(epoch from r.finished_at - r.created_at)::float8 as to_finish,"
        " extract(epoch from r.created_at)::float8 - (r.input->>'t0')::float8 as to_created,"
        " (t.output->>'t')::float8 - extract(epoch from t.started_at)::float8 as to_worker"
        " from workflow_runs r join task_runs t on t.tenant_id = r.tenant_id and t.run_id = r.id"
        " where r.id = any($1::uuid[])", [p["id"] for p in probes])
    return {
        "runs": runs,
        "failed": sum(p["status"] != "succeeded" for p in probes),
        "db_trigger_to_start": [r["to_start"] for r in rows],
        "db_trigger_to_finish": [r["to_finish"] for r in rows],
        # the client-observed trigger → task start, split at the database's timestamps:
        "split_request_to_run_created": [r["to_created"] for r in rows],
        "split_task_claimed_to_worker_start": [r["to_worker"] for r in rows
                                               if r["to_worker"] is not None],
        "client_trigger_to_result": [p["client_result"] for p in probes],
        "client_trigger_to_worker_start": [p["worker_start"] for p in probes
                                           if p["worker_start"] is not None],
    }

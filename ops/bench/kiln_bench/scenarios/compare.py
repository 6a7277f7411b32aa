"""compare: Kiln vs pgqueuer (default batch 10, and batch 50) vs procrastinate, same Postgres.

Each system gets a fresh database on the same server, one worker process with no-op jobs, and
the same two measurements back to back: throughput (``--n`` jobs enqueued in bulk, ≤1,000 per
call, ``--callers`` concurrent callers, drained meanwhile) and latency (``--latency-runs`` jobs
one at a time; enqueue → job function start on this host's wall clock — for Kiln that is the
HTTP trigger → the SDK task function). The peers run from ops/bench/.peers-venv (made on first
use); procrastinate's worker gets ``concurrency=10``. Ratios are Kiln / peer, this run only.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
from pathlib import Path
from typing import Any

from kiln_bench import drain, peers_venv
from kiln_bench.bench import Bench
from kiln_bench.live import WORKERS
from kiln_bench.report import Row, ms

NAME = "compare"
PEERS = [  # (label, system, worker arguments)
    ("pgqueuer batch 10 (default)", "pgqueuer", ["--batch", "10"]),
    ("pgqueuer batch 50", "pgqueuer", ["--batch", "50"]),
    ("procrastinate", "procrastinate", ["--concurrency", "10"]),
]
SCRIPT = WORKERS / "peers.py"


async def _call(python: Path, args: list[str], limit: float) -> dict[str, Any]:
    done = await asyncio.to_thread(subprocess.run, [str(python), str(SCRIPT), *args],
                                   capture_output=True, text=True, timeout=limit, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"peers.py {args[0]} failed: {done.stderr[-1500:]}")
    lines = done.stdout.strip().splitlines()
    result: dict[str, Any] = json.loads(lines[-1]) if lines else {}
    return result


async def _peer(bench: Bench, python: Path, label: str, system: str,
                worker_args: list[str]) -> dict[str, Any]:
    opts = bench.options
    database = await bench.cluster.create_database(label.split()[0] + worker_args[-1])
    dsn = bench.cluster.dsn(database)
    probe_file = bench.procs.workdir / f"{database}.probes"
    ready = bench.procs.workdir / f"{database}.ready"
    common = ["--system", system, "--dsn", dsn]
    try:
        bench.status(f"{label}: installing schema", force=True)
        await _call(python, ["install", *common], 120)
        worker = bench.procs.spawn(f"peer-{system}", [
            str(python), str(SCRIPT), "worker", *common, *worker_args,
            "--probe-file", str(probe_file), "--ready-file", str(ready)], {"PYTHONUNBUFFERED": "1"})
        try:
            for _ in range(300):
                if ready.exists() or not worker.alive():
                    break
                await asyncio.sleep(0.1)
            if not worker.alive():
                raise RuntimeError(f"{label} worker exited: {worker.tail()}")
            await asyncio.sleep(1.0)  # past its start-up queries
            bench.status(f"{label}: throughput, {opts.n:,} jobs", force=True)
            throughput = await _call(python, ["throughput", *common, "--n", str(opts.n),
                                              "--callers", str(opts.callers)], opts.timeout)
            bench.status(f"{label}: latency, {opts.latency_runs} jobs", force=True)
            latency = await _call(python, ["latency", *common, "--runs", str(opts.latency_runs),
                                           "--probe-file", str(probe_file)], opts.timeout)
        finally:
            bench.procs.stop(worker)
    finally:
        await bench.cluster.drop_database(database)
    return {"per_s": throughput["per_s"], "seconds": throughput["seconds"],
            "enqueue_seconds": throughput["enqueue_seconds"],
            "enqueue_to_start_ms": ms(latency["enqueue_to_start"])}


async def _kiln(bench: Bench) -> dict[str, Any]:
    opts = bench.options
    async with bench.stack(NAME, workflows="noop,probe") as stack:
        throughput = await drain.drain(stack, "noop", opts.n, callers=opts.callers,
                                       label=f"{NAME} kiln")
        await drain.probe_many(stack, 10, f"{NAME} kiln warm-up")
        probes = await drain.probe_many(stack, opts.latency_runs, f"{NAME} kiln")
    return {"per_s": throughput["per_s"], "seconds": throughput["seconds"],
            "enqueue_seconds": throughput["trigger_seconds"],
            "enqueue_to_start_ms": ms(probes["client_trigger_to_worker_start"]),
            "db_trigger_to_start_ms": ms(probes["db_trigger_to_start"]),
            "slots": opts.slots}


async def run(bench: Bench) -> None:
    python = await asyncio.to_thread(peers_venv.ensure)
    results: dict[str, dict[str, Any]] = {"kiln": await _kiln(bench)}
    for label, system, worker_args in PEERS:
        results[label] = await _peer(bench, python, label, system, worker_args)
    kiln = results["kiln"]
    rows = []
    for label, result in results.items():
        note = (f"1 worker, {bench.options.slots} slots" if label == "kiln" else
                f"kiln/peer {kiln['per_s'] / result['per_s']:.2f}x")
        rows.append(Row(NAME, label, f"throughput, {bench.options.n:,} no-op jobs",
                        result["per_s"], "jobs/s", note))
    for label, result in results.items():
        figures = result["enqueue_to_start_ms"]
        note = f"p99 {figures['p99']} ms"
        if label != "kiln":
            note += f"; kiln/peer p50 {kiln['enqueue_to_start_ms']['p50'] / figures['p50']:.2f}x"
        rows.append(Row(NAME, label, "enqueue→job start p50", figures["p50"], "ms", note))
    ratios = {label: {"throughput": round(kiln["per_s"] / r["per_s"], 3),
                      "latency_p50": round(kiln["enqueue_to_start_ms"]["p50"]
                                           / r["enqueue_to_start_ms"]["p50"], 3)}
              for label, r in results.items() if label != "kiln"}
    bench.status.done("; ".join(f"{label}: {r['throughput']:.2f}x" for label, r in ratios.items()))
    bench.record(NAME, "all", {"n": bench.options.n, "latency_runs": bench.options.latency_runs,
                               "results": results, "kiln_over_peer": ratios}, rows)


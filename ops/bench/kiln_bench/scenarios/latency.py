"""latency: an idle system, one run at a time — trigger → task start, trigger → result."""

from __future__ import annotations

from typing import Any

from kiln_bench import drain
from kiln_bench.bench import Bench
from kiln_bench.report import Row, ms

NAME = "latency"
WARMUP = 10


def summarize(scenario: str, probes: dict[str, Any]) -> tuple[dict[str, Any], list[Row]]:
    """Percentiles (ms) of each measured interval, as a record and table rows."""
    labels = {
        "db_trigger_to_start": "trigger→start (db clock)",
        "client_trigger_to_worker_start": "trigger→task fn start (client+worker clock)",
        "db_trigger_to_finish": "trigger→finished (db clock)",
        "client_trigger_to_result": "trigger→result seen by client (GET loop)",
        "split_request_to_run_created": "  split: client request→run row created",
        "split_task_claimed_to_worker_start": "  split: task claimed (db)→task fn start",
    }
    data: dict[str, Any] = {"runs": probes["runs"], "failed": probes["failed"]}
    rows = []
    for key, label in labels.items():
        figures = ms(probes[key])
        data[f"{key}_ms"] = figures
        for point in ("p50", "p99"):
            rows.append(Row(scenario, "kiln", f"{label} {point}", figures[point], "ms",
                            f"p95 {figures['p95']} ms" if point == "p50" else ""))
    return data, rows


async def run(bench: Bench) -> None:
    runs = bench.options.latency_runs
    async with bench.stack(NAME, workflows="probe") as stack:
        await drain.probe_many(stack, WARMUP, f"{NAME} warm-up")
        probes = await drain.probe_many(stack, runs, NAME)
    data, rows = summarize(NAME, probes)
    bench.measured["latency_p50_ms"] = data["client_trigger_to_worker_start_ms"]["p50"]
    bench.status.done(f"trigger→start p50 {data['db_trigger_to_start_ms']['p50']} ms")
    bench.record(NAME, "kiln", data, rows)

"""throughput: N no-op tasks triggered in bulk, drained by one worker process."""

from __future__ import annotations

from kiln_bench import drain, profiling
from kiln_bench.bench import Bench
from kiln_bench.report import Row

NAME = "throughput"


async def run(bench: Bench) -> None:
    opts = bench.options
    async with bench.stack(NAME, workflows="noop") as stack, \
            profiling.around(bench, stack, opts.n, NAME) as profile:
        result = await drain.drain(stack, "noop", opts.n, callers=opts.callers, label=NAME)
    bench.measured["throughput"] = result["per_s"]
    bench.status.done(f"{result['per_s']:,.0f} tasks/s")
    data = {**result, "slots": opts.slots, "callers": opts.callers}
    if profile:
        data["profile"] = profile
    bench.record(NAME, "kiln", data, [
        Row(NAME, "kiln", f"{opts.n:,} no-op tasks, 1 worker", result["per_s"], "tasks/s",
            f"{result['seconds']}s; trigger {result['trigger_seconds']}s; "
            f"cores {result['cpu_cores']}"),
    ])

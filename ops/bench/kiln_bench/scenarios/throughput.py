"""throughput: N no-op tasks triggered in bulk, drained by one worker process."""

from __future__ import annotations

from kiln_bench import drain, profiling
from kiln_bench.bench import Bench
from kiln_bench.report import Row

NAME = "throughput"


async def run(bench: Bench) -> None:
    opts = bench.options
    async with bench.stack(NAME, workflows="noop") as stack:
        profile = None
        if opts.profile:
            await profiling.reset_statements(bench)
            profile = profiling.start(bench, stack)
        try:
            result = await drain.drain(stack, "noop", opts.n, callers=opts.callers, label=NAME)
        finally:
            summary = (await profiling.stop(bench, stack, profile, opts.n)
                       if profile else None)
    bench.measured["throughput"] = result["per_s"]
    bench.status.done(f"{result['per_s']:,.0f} tasks/s")
    data = {**result, "slots": opts.slots, "callers": opts.callers}
    if summary:
        data["profile"] = summary
        bench.status.done(f"profile: {summary['markdown']}")
    bench.record(NAME, "kiln", data, [
        Row(NAME, "kiln", f"{opts.n:,} no-op tasks, 1 worker", result["per_s"], "tasks/s",
            f"{result['seconds']}s; trigger {result['trigger_seconds']}s; "
            f"cores {result['cpu_cores']}"),
    ])

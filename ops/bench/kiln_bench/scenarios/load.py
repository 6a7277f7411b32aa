"""latency-under-load: the latency probes while 50% of the max throughput runs behind them.

The max is this run's ``throughput`` figure when that scenario ran first, else a short
calibration drain. The load is paced: every 100 ms, a bulk trigger of rate/10 no-op runs; the
same worker process serves the probes and the load (probes queue behind it, as they would).
"""

from __future__ import annotations

import asyncio
import time

from kiln_bench import drain, live
from kiln_bench.bench import Bench, Stack
from kiln_bench.report import Row
from kiln_bench.scenarios.latency import WARMUP, summarize

NAME = "latency-under-load"
TICK = 0.1


async def _load(stack: Stack, rate: float, sent: list[int]) -> None:
    per_tick = rate * TICK
    owed = 0.0
    next_tick = time.monotonic()
    while True:
        owed += per_tick
        size = int(owed)
        owed -= size
        while size > 0:
            chunk = min(size, 1000)
            await live.trigger_bulk(stack.http, stack.tenant, "noop", [{}] * chunk)
            sent[0] += chunk
            size -= chunk
        next_tick += TICK
        await asyncio.sleep(max(0.0, next_tick - time.monotonic()))


async def run(bench: Bench) -> None:
    opts = bench.options
    async with bench.stack(NAME, workflows="noop,probe") as stack:
        peak = bench.measured.get("throughput")
        source = "this run's throughput scenario"
        if peak is None:
            calibration = await drain.drain(stack, "noop", min(opts.n, 5000),
                                            callers=opts.callers, label=f"{NAME} calibration")
            peak, source = calibration["per_s"], "calibration drain"
        rate = peak * opts.load_fraction
        await drain.probe_many(stack, WARMUP, f"{NAME} warm-up")
        _, done_before, _ = await drain.counts(stack, "noop")
        sent = [0]
        loader = asyncio.create_task(_load(stack, rate, sent))
        started = time.monotonic()
        try:
            probes = await drain.probe_many(stack, opts.latency_runs, NAME)
        finally:
            loader.cancel()
            await asyncio.gather(loader, return_exceptions=True)
        elapsed = time.monotonic() - started
        _, done_after, _ = await drain.counts(stack, "noop")
        await drain.wait_finished(stack, "noop", done_before + sent[0], f"{NAME} settling")
    data, rows = summarize(NAME, probes)
    achieved = round(sent[0] / elapsed, 1)
    data.update(max_throughput=peak, max_source=source, target_rate=round(rate, 1),
                offered_rate=achieved,
                completed_rate=round((done_after - done_before) / elapsed, 1))
    rows.insert(0, Row(NAME, "kiln", "background load offered", achieved, "tasks/s",
                       f"target {rate:,.0f}/s = {opts.load_fraction:.0%} of {peak:,.0f}/s "
                       f"({source})"))
    bench.status.done(f"p50 {data['db_trigger_to_start_ms']['p50']} ms at {achieved:,.0f}/s")
    bench.record(NAME, "kiln", data, rows)

"""soak: growth under a steady load — 50% of the max throughput for ``--soak-seconds``.

The max is this run's ``throughput`` figure when that scenario ran first, else a short
calibration drain; the load is paced like latency-under-load's. ``--soak-rate`` sets the rate
instead (runs/s): on a shared machine a short drain's max may not be sustainable for an hour,
and a growing backlog would hide what retention and vacuum do. The tenant's retention is set
short (``--soak-retention-minutes``, as a fraction of a day: ``run_retention_days`` is a real)
so that the retention loop removes finished runs during the soak. Reported: table and index
sizes of the engine tables before, at every quarter and after; live and dead tuples
(pg_stat_user_tables) and the dead-tuple ratio; how often autovacuum finished on each table and
the age of the oldest snapshot any session holds (a long transaction keeps vacuum from removing
anything newer); runs triggered, finished and removed.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from kiln_bench import drain
from kiln_bench.bench import Bench, Stack
from kiln_bench.report import Row
from kiln_bench.scenarios.load import _load

NAME = "soak"
TABLES = ("workflow_runs", "task_runs", "task_attempts", "queue_items", "outbox", "task_logs")
MB = 1024 * 1024


async def _sizes(stack: Stack) -> dict[str, dict[str, float]]:
    """Per engine table: heap and index MB, live and dead tuples, dead ratio."""
    rows = await stack.conn.fetch(
        "select s.relname, pg_table_size(s.relid) as heap, pg_indexes_size(s.relid) as idx,"
        " s.n_live_tup, s.n_dead_tup, s.autovacuum_count, s.vacuum_count"
        " from pg_stat_user_tables s"
        " where s.relname = any($1::text[])", list(TABLES))
    out = {}
    for r in rows:
        tuples = r["n_live_tup"] + r["n_dead_tup"]
        out[r["relname"]] = {
            "table_mb": round(r["heap"] / MB, 2), "index_mb": round(r["idx"] / MB, 2),
            "live": r["n_live_tup"], "dead": r["n_dead_tup"],
            "dead_ratio": round(r["n_dead_tup"] / tuples, 3) if tuples else 0.0,
            "vacuums": r["autovacuum_count"] + r["vacuum_count"],
        }
    return out


async def _oldest_snapshot_s(stack: Stack) -> float:
    """Seconds since the oldest transaction that holds back vacuum's horizon began."""
    age = await stack.conn.fetchval(
        "select extract(epoch from now() - min(xact_start))::float8 from pg_stat_activity"
        " where backend_xmin is not null and pid <> pg_backend_pid()")
    return round(age or 0.0, 1)


def _total_mb(sizes: dict[str, dict[str, float]]) -> float:
    return round(sum(t["table_mb"] + t["index_mb"] for t in sizes.values()), 2)


async def run(bench: Bench) -> None:
    opts = bench.options
    seconds = opts.soak_seconds
    async with bench.stack(NAME, workflows="noop") as stack:
        peak = bench.measured.get("throughput")
        source = "this run's throughput scenario"
        if peak is None:
            calibration = await drain.drain(stack, "noop", min(opts.n, 5000),
                                            callers=opts.callers, label=f"{NAME} calibration")
            peak, source = calibration["per_s"], "calibration drain"
        rate = opts.soak_rate or peak * opts.load_fraction
        retention_days = opts.soak_retention_minutes / 1440
        await stack.conn.execute("update tenants set run_retention_days = $1::real",
                                 retention_days)
        total_before, _, _ = await drain.counts(stack, "noop")
        before = await _sizes(stack)
        samples: list[dict[str, Any]] = []
        sent = [0]
        loader = asyncio.create_task(_load(stack, rate, sent))
        started = time.monotonic()
        next_sample = started + seconds / 4
        try:
            while (elapsed := time.monotonic() - started) < seconds:
                if time.monotonic() >= next_sample:
                    sizes = await _sizes(stack)
                    samples.append({"at_s": round(elapsed), "total_mb": _total_mb(sizes),
                                    "oldest_snapshot_s": await _oldest_snapshot_s(stack),
                                    "sizes": sizes})
                    next_sample += seconds / 4
                runs, done, _ = await drain.counts(stack, "noop")
                bench.status(f"{NAME}: {elapsed:,.0f}/{seconds:,.0f}s, sent {sent[0]:,}, "
                             f"{runs:,} runs kept ({done:,} finished)")
                await asyncio.sleep(min(5.0, max(0.1, seconds - elapsed)))
        finally:
            loader.cancel()
            await asyncio.gather(loader, return_exceptions=True)
        elapsed = time.monotonic() - started
        runs_after, done_after, failed = await drain.counts(stack, "noop")
        after = await _sizes(stack)
        oldest = await stack.conn.fetchval(
            "select extract(epoch from now() - min(finished_at))::float8 from workflow_runs"
            " where workflow_name = 'noop' and finished_at is not null")
    removed = total_before + sent[0] - runs_after
    data = {
        "seconds": round(elapsed), "target_rate": round(rate, 1), "max_throughput": peak,
        "max_source": source, "offered_rate": round(sent[0] / elapsed, 1),
        "runs_triggered": sent[0], "runs_kept": runs_after, "runs_finished_kept": done_after,
        "runs_failed_kept": failed, "runs_removed_by_retention": removed,
        "retention_minutes": opts.soak_retention_minutes,
        "oldest_finished_run_age_s": round(oldest or 0.0, 1),
        "total_mb_before": _total_mb(before), "total_mb_after": _total_mb(after),
        "sizes_before": before, "sizes_after": after, "samples": samples,
    }
    rows = [
        Row(NAME, "kiln", "load offered", data["offered_rate"], "runs/s",
            (f"target {rate:,.0f}/s (--soak-rate)" if opts.soak_rate else
             f"target {rate:,.0f}/s = {opts.load_fraction:.0%} of {peak:,.0f}/s ({source})")
            + f"; {elapsed / 60:.0f} min"),
        Row(NAME, "kiln", "runs removed by retention", removed, "runs",
            f"retention {opts.soak_retention_minutes:g} min; oldest finished kept "
            f"{data['oldest_finished_run_age_s'] / 60:.1f} min"),
        Row(NAME, "kiln", "engine tables + indexes before", data["total_mb_before"], "MB", ""),
        *[Row(NAME, "kiln", f"engine tables + indexes at {s['at_s'] / 60:.1f} min",
              s["total_mb"], "MB", f"oldest snapshot {s['oldest_snapshot_s']} s; vacuums " +
              ", ".join(f"{t} {v['vacuums']}" for t, v in s["sizes"].items()))
          for s in samples],
        Row(NAME, "kiln", "engine tables + indexes after", data["total_mb_after"], "MB", ""),
    ]
    for table in TABLES:
        if table in after:
            t = after[table]
            rows.append(Row(NAME, "kiln", f"{table} after", t["table_mb"] + t["index_mb"], "MB",
                            f"table {t['table_mb']} + index {t['index_mb']}; {t['live']:,} live, "
                            f"{t['dead']:,} dead (ratio {t['dead_ratio']})"))
    bench.status.done(f"{data['total_mb_before']} → {data['total_mb_after']} MB, "
                      f"{removed:,} runs removed")
    bench.record(NAME, "kiln", data, rows)

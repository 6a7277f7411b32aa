"""idle: what an idle server costs — its CPU (from /proc, via psutil) and the transactions and
statements it sends to Postgres, over ``--idle-seconds`` with one worker parked in a long-poll.
Also the client sessions opened to the database meanwhile: a new connection's start-up
transactions are ones no pooled statement accounts for."""

from __future__ import annotations

import asyncio
import time

from kiln_bench.bench import Bench
from kiln_bench.report import Row

NAME = "idle"
SETTLE = 3.0


async def _stats(bench: Bench, database: str) -> tuple[int, int, dict[str, int]]:
    """Transactions of ``database``, sessions opened to it, and statement calls by query (read
    from another database, so reading them adds nothing)."""
    conn = await bench.cluster.connect("postgres")
    try:
        row = await conn.fetchrow(
            "select xact_commit + xact_rollback as xacts, sessions from pg_stat_database"
            " where datname = $1", database)
        calls: dict[str, int] = {}
        if bench.cluster.has_statements:
            for statement in await conn.fetch(
                    "select s.query, sum(s.calls)::bigint as calls from pg_stat_statements s"
                    " join pg_database d on d.oid = s.dbid where d.datname = $1"
                    " group by s.query", database):
                calls[statement["query"]] = statement["calls"]
        return int(row["xacts"]), int(row["sessions"]), calls
    finally:
        await conn.close()


async def run(bench: Bench) -> None:
    seconds = bench.options.idle_seconds
    async with bench.stack(NAME, workflows="noop") as stack:
        bench.status(f"{NAME}: settling {SETTLE:.0f}s", force=True)
        await asyncio.sleep(SETTLE)
        database = stack.server.database
        commits_before, sessions_before, calls_before = await _stats(bench, database)
        meter = stack.cpu()
        meter.start()
        started = time.monotonic()
        while (elapsed := time.monotonic() - started) < seconds:
            bench.status(f"{NAME}: measuring {elapsed:.0f}/{seconds:.0f}s")
            await asyncio.sleep(min(1.0, seconds - elapsed))
        elapsed = time.monotonic() - started
        await asyncio.sleep(1.1)  # backends flush their statistics about once a second
        cores = meter.stop(elapsed)
        commits_after, sessions_after, calls_after = await _stats(bench, database)
    xacts = round((commits_after - commits_before) / elapsed, 2)
    sessions_per_min = round((sessions_after - sessions_before) / elapsed * 60, 2)
    statements = {query: calls_after[query] - calls_before.get(query, 0)
                  for query in calls_after if calls_after[query] > calls_before.get(query, 0)}
    top = sorted(statements.items(), key=lambda item: -item[1])[:15]
    per_s = round(sum(statements.values()) / elapsed, 2) if statements else None
    cpu = round(cores["server"] * 100, 2)
    bench.status.done(f"server CPU {cpu}% of a core, {xacts} transactions/s")
    bench.record(NAME, "kiln", {
        "seconds": round(elapsed, 1), "server_cpu_pct_of_core": cpu,
        "worker_cpu_pct_of_core": round(cores["worker"] * 100, 2),
        "transactions_per_s": xacts, "statements_per_s": per_s,
        "sessions_per_min": sessions_per_min,
        "top_statements": [{"calls_per_s": round(calls / elapsed, 2), "query": " ".join(
            query.split())[:160]} for query, calls in top]}, [
        Row(NAME, "kiln", "server CPU, parked worker", cpu, "% core", "target < 2%"),
        Row(NAME, "kiln", "transactions against Postgres", xacts, "/s", "target: a few"),
        *([Row(NAME, "kiln", "statements against Postgres", per_s, "/s",
               "pg_stat_statements")] if per_s is not None else []),
        Row(NAME, "kiln", "sessions opened", sessions_per_min, "/min",
            "new client connections"),
    ])

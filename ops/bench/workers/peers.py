"""The peers of ``ops/bench/run compare``: pgqueuer and procrastinate, with no-op jobs.

Runs with ops/bench/.peers-venv's python (the peers are not project dependencies):

    peers.py install    --system pgqueuer --dsn DSN
    peers.py worker     --system pgqueuer --dsn DSN --batch 10 --probe-file F --ready-file R
    peers.py throughput --system pgqueuer --dsn DSN --n 20000 --callers 4
    peers.py latency    --system pgqueuer --dsn DSN --runs 200 --probe-file F

``throughput`` and ``latency`` print one JSON object. Throughput: wall clock before the first
enqueue to the last completion the peer recorded in its own tables (pgqueuer_log 'successful',
procrastinate_events 'succeeded'). Latency: enqueue → job function start, both on this host's
wall clock (the ``probe`` job appends ``time.time() - t0`` to the probe file).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import time
from pathlib import Path
from typing import Any

import asyncpg


def _record(path: str, t0: float) -> None:
    with Path(path).open("a") as out:
        out.write(f"{time.time() - t0}\n")


# Tiny local files, read and written in a few microseconds: not worth a thread hop.
def _lines(path: str) -> list[str]:
    return Path(path).read_text().splitlines() if Path(path).exists() else []


def _ready(path: str) -> None:
    Path(path).write_text("ready")


# --- pgqueuer ---------------------------------------------------------------------------------

async def pgqueuer_install(dsn: str) -> None:
    from pgqueuer.db import AsyncpgDriver
    from pgqueuer.queries import Queries

    conn = await asyncpg.connect(dsn)
    try:
        await Queries(AsyncpgDriver(conn)).install()
    finally:
        await conn.close()


async def pgqueuer_worker(args: argparse.Namespace) -> None:
    from pgqueuer import PgQueuer
    from pgqueuer.db import AsyncpgDriver

    conn = await asyncpg.connect(args.dsn)
    pgq = PgQueuer(AsyncpgDriver(conn))

    @pgq.entrypoint("noop")
    async def noop(job: Any) -> None:
        return None

    @pgq.entrypoint("probe")
    async def probe(job: Any) -> None:
        _record(args.probe_file, float(job.payload.decode()))

    _ready(args.ready_file)
    await pgq.run(batch_size=args.batch)


async def pgqueuer_enqueue(conn: asyncpg.Connection, name: str,
                           payloads: list[bytes | None]) -> None:
    from pgqueuer.db import AsyncpgDriver
    from pgqueuer.queries import Queries

    await Queries(AsyncpgDriver(conn)).enqueue([name] * len(payloads), payloads,
                                               [0] * len(payloads))


# --- procrastinate ----------------------------------------------------------------------------

def procrastinate_app(dsn: str, probe_file: str = "") -> Any:
    from procrastinate import App, PsycopgConnector

    app = App(connector=PsycopgConnector(conninfo=dsn))

    @app.task(name="noop")
    async def noop() -> None:
        return None

    @app.task(name="probe")
    async def probe(t0: float) -> None:
        _record(probe_file, t0)

    return app


async def procrastinate_install(dsn: str) -> None:
    app = procrastinate_app(dsn)
    async with app.open_async():
        await app.schema_manager.apply_schema_async()


async def procrastinate_worker(args: argparse.Namespace) -> None:
    app = procrastinate_app(args.dsn, args.probe_file)
    async with app.open_async():
        _ready(args.ready_file)
        await app.run_worker_async(concurrency=args.concurrency, wait=True)


# --- drivers ----------------------------------------------------------------------------------

COUNT_LEFT = {
    "pgqueuer": "select count(*) from pgqueuer where entrypoint = 'noop'",
    "procrastinate": "select count(*) from procrastinate_jobs where task_name = 'noop'"
                     " and status in ('todo', 'doing')",
}
LAST_DONE = {
    "pgqueuer": "select extract(epoch from max(created))::float8 from pgqueuer_log"
                " where status = 'successful' and entrypoint = 'noop'",
    "procrastinate": "select extract(epoch from max(e.at))::float8 from procrastinate_events e"
                     " join procrastinate_jobs j on j.id = e.job_id"
                     " where e.type = 'succeeded' and j.task_name = 'noop'",
}


async def throughput(args: argparse.Namespace) -> dict[str, Any]:
    chunks = [min(1000, args.n - start) for start in range(0, args.n, 1000)]
    app = procrastinate_app(args.dsn) if args.system == "procrastinate" else None

    async def caller() -> None:
        conn = await asyncpg.connect(args.dsn) if app is None else None
        try:
            while chunks:
                size = chunks.pop()
                if conn is not None:
                    await pgqueuer_enqueue(conn, "noop", [None] * size)
                else:
                    await app.tasks["noop"].batch_defer_async(*([{}] * size))
        finally:
            if conn is not None:
                await conn.close()

    async with contextlib.AsyncExitStack() as stack:
        if app is not None:
            await stack.enter_async_context(app.open_async())
        watch = await asyncpg.connect(args.dsn)
        stack.push_async_callback(watch.close)
        started = time.time()
        await asyncio.gather(*(caller() for _ in range(args.callers)))
        enqueued = time.time()
        deadline = time.monotonic() + args.timeout
        while await watch.fetchval(COUNT_LEFT[args.system]):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{args.system}: jobs left after {args.timeout}s")
            await asyncio.sleep(0.05)
        await asyncio.sleep(1.5)  # pgqueuer flushes its log in batches
        last = await watch.fetchval(LAST_DONE[args.system])
    seconds = last - started
    return {"n": args.n, "seconds": round(seconds, 3), "per_s": round(args.n / seconds, 1),
            "enqueue_seconds": round(enqueued - started, 3)}


async def latency(args: argparse.Namespace) -> dict[str, Any]:
    app = procrastinate_app(args.dsn) if args.system == "procrastinate" else None
    async with contextlib.AsyncExitStack() as stack:
        if app is not None:
            await stack.enter_async_context(app.open_async())
        conn = await asyncpg.connect(args.dsn)
        stack.push_async_callback(conn.close)
        seen = len(_lines(args.probe_file))
        for _ in range(args.runs):
            t0 = time.time()
            if app is None:
                await pgqueuer_enqueue(conn, "probe", [repr(t0).encode()])
            else:
                await app.tasks["probe"].defer_async(t0=t0)
            deadline = time.monotonic() + 30
            while len(_lines(args.probe_file)) <= seen:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{args.system}: probe job did not start within 30s")
                await asyncio.sleep(0.0005)
            seen += 1
            await asyncio.sleep(0.005)
    values = [float(line) for line in _lines(args.probe_file)]
    return {"runs": args.runs, "enqueue_to_start": values[-args.runs:]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=["install", "worker", "throughput", "latency"])
    parser.add_argument("--system", choices=["pgqueuer", "procrastinate"], required=True)
    parser.add_argument("--dsn", required=True)
    parser.add_argument("--batch", type=int, default=10)
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--probe-file", default="")
    parser.add_argument("--ready-file", default="")
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--callers", type=int, default=4)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args()
    pg = args.system == "pgqueuer"
    if args.command == "install":
        asyncio.run(pgqueuer_install(args.dsn) if pg else procrastinate_install(args.dsn))
    elif args.command == "worker":
        asyncio.run(pgqueuer_worker(args) if pg else procrastinate_worker(args))
    else:
        result = asyncio.run(throughput(args) if args.command == "throughput" else latency(args))
        sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()

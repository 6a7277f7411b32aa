"""Events ingest rate through ``POST /api/v1/events/bulk`` (a measurement, not a test).

Starts its own Postgres (embedded in a temporary directory, or the server of
``KILN_DATABASE_URL``, as a superuser) and one ``kiln server start``, signs up a tenant,
registers ``--subscribers`` workflows on ``bench:*`` (each event then also starts that many runs,
in the event's transaction), and pushes ``--events`` events in batches of ``--batch`` from
``--callers`` concurrent clients. Prints the events/s figure (and runs/s)::

    .venv/bin/python ops/bench/events_ingest.py
    .venv/bin/python ops/bench/events_ingest.py --events 100000 --callers 8 --subscribers 0
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from kiln_bench.cluster import Cluster  # imported after the path above is set
from kiln_bench.live import Processes, make_tenant, start_server


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=50_000, help="events to push (50,000)")
    parser.add_argument("--batch", type=int, default=1000, help="events per request (≤1,000)")
    parser.add_argument("--callers", type=int, default=4, help="concurrent clients (4)")
    parser.add_argument("--subscribers", type=int, default=1,
                        help="workflows subscribed to every event (1); 0 = storage only")
    parser.add_argument("--payload-bytes", type=int, default=200, help="payload size (200)")
    return parser.parse_args()


async def push_all(url: str, key: str, args: argparse.Namespace) -> tuple[float, int]:
    filler = "x" * max(0, args.payload_bytes - 30)
    batches = [[{"key": f"bench:{i % 10}", "payload": {"i": i, "filler": filler}}
                for i in range(start, min(start + args.batch, args.events))]
               for start in range(0, args.events, args.batch)]
    queue: asyncio.Queue[list[dict[str, object]]] = asyncio.Queue()
    for batch in batches:
        queue.put_nowait(batch)
    runs = 0

    async def caller(http: httpx.AsyncClient) -> None:
        nonlocal runs
        while not queue.empty():
            batch = queue.get_nowait()
            reply = await http.post("/api/v1/events/bulk", json={"events": batch})
            if reply.status_code != 201:
                raise RuntimeError(f"bulk push failed: {reply.status_code} {reply.text[:300]}")
            runs += sum(len(e["runs"]) for e in reply.json()["events"])

    headers = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=120) as http:
        warm = await http.post("/api/v1/events/bulk", json={"events": [{"key": "warm:up"}] * 10})
        warm.raise_for_status()
        started = time.perf_counter()
        await asyncio.gather(*[caller(http) for _ in range(args.callers)])
        return time.perf_counter() - started, runs


async def main() -> None:
    args = arguments()
    if not 1 <= args.batch <= 1000:
        raise SystemExit("--batch must be between 1 and 1000")
    with tempfile.TemporaryDirectory(prefix="kiln-events-bench-") as workdir:
        cluster = Cluster.start(Path(workdir) / "pg", statements=False)
        procs = Processes(Path(workdir))
        try:
            await cluster.check()
            database = await cluster.kiln_database("events")
            server = await start_server(procs, cluster, database)
            tenant = await make_tenant(server, "events")
            async with httpx.AsyncClient(base_url=server.url, headers=tenant.headers) as http:
                for n in range(args.subscribers):
                    reply = await http.post("/api/v1/workflows", json={
                        "name": f"on-bench-{n}", "tasks": [{"name": "t"}],
                        "on_events": ["bench:*"]})
                    reply.raise_for_status()
            seconds, runs = await push_all(server.url, tenant.admin_key, args)
        finally:
            procs.stop_all()
            await cluster.drop_all()
            cluster.stop()
    print(f"events_ingest: {args.events} events in {seconds:.2f} s = "
          f"{args.events / seconds:,.0f} events/s; {runs} runs started ({runs / seconds:,.0f} "
          f"runs/s); batch {args.batch}, {args.callers} callers, {args.subscribers} "
          f"subscribed workflow(s), {args.payload_bytes}-byte payloads, Postgres {cluster.kind}")


if __name__ == "__main__":
    asyncio.run(main())

"""Claim throughput with and without a concurrency limit (flow control, docs/flow-control.md).

    .venv/bin/python ops/bench/claim_flow.py [--tasks 20000] [--batch 10 50] [--keys 10]

Measures the engine's claim path in-process (``Engine.poll`` with ``wait=0``, no HTTP, no worker
process), so the figures compare the two claim lanes and nothing else:

* ``plain`` — a workflow without flow rules: the fast lane (one statement per claim);
* ``concurrency`` — the same workflow with ``concurrency: [{expression: input.k, max_runs:
  100000}]`` over ``--keys`` keys: every task goes through the flow lane (round-robin groups,
  advisory lock, holds), but the limit never binds, so the figure is the lane's cost.

Tasks are triggered in bulk first (not timed); each claimed batch is completed before the next
claim (not timed), so running tasks stay at one batch. The database: ``KILN_BENCH_DATABASE_URL``,
``KILN_TEST_DATABASE_URL`` or ``KILN_DATABASE_URL`` (a server the script may create a scratch
database on, dropped at the end), else an embedded Postgres in a temporary directory.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from app.asgi import create_app  # noqa: E402
from app.db import embedded, migrate, urls  # noqa: E402
from app.engine.queue.results import Result  # noqa: E402
from app.engine.queue.trigger import RunRequest  # noqa: E402
from app.settings import Settings  # noqa: E402

SECRET = "kiln-bench-claim-flow-secret-key"  # noqa: S105 — a throw-away bench database
WORKFLOWS = {
    "plain": {"name": "plain", "tasks": [{"name": "t"}]},
    "concurrency": {"name": "limited", "tasks": [{"name": "t"}], "concurrency": [
        {"expression": "input.k", "max_runs": 100_000}]},
}


@contextlib.asynccontextmanager
async def scratch_database() -> AsyncIterator[str]:
    """An owner URL of a fresh, migrated database (dropped afterwards)."""
    configured = next((os.environ[v] for v in ("KILN_BENCH_DATABASE_URL",
                                               "KILN_TEST_DATABASE_URL", "KILN_DATABASE_URL")
                       if os.environ.get(v)), None)
    with contextlib.ExitStack() as stack:
        if configured:
            admin = urls.owner_url(configured)
        else:
            home = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="kiln-bench-")))
            server = embedded.start(home, database="postgres")
            stack.callback(server.stop)
            admin = urls.owner_url(server.owner_url("postgres"))
        name = f"kiln_bench_flow_{uuid.uuid4().hex[:10]}"
        conn = await asyncpg.connect(urls.asyncpg_dsn(admin))
        await conn.execute(f'CREATE DATABASE "{name}"')
        await conn.close()
        try:
            url = admin.set(database=name)
            await migrate.upgrade_to_head(url, urls.authenticator_password(SECRET, None))
            yield url.render_as_string(hide_password=False)
        finally:
            conn = await asyncpg.connect(urls.asyncpg_dsn(admin))
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await conn.close()


async def measure(args: argparse.Namespace) -> dict[tuple[str, int], float]:
    async with scratch_database() as url:
        home = Path(tempfile.mkdtemp(prefix="kiln-bench-home-"))
        app = create_app(Settings(database_url=url, secret_key=SECRET, home=home,
                                  frontend_dist=home / "none", run_loops=False, pool_size=4,
                                  log_level="warning"))
        async with app.lifespan():
            engine = app.state.engine
            transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40000))
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:
                signup = await http.post("/api/v1/auth/signup", json={
                    "email": "bench@example.com", "password": "correct horse battery",
                    "tenant_name": "bench"})
                auth = {"Authorization": f"Bearer {signup.json()['token']}"}
                tenant = uuid.UUID(signup.json()["tenant"]["id"])
                for definition in WORKFLOWS.values():
                    registered = await http.post("/api/v1/workflows", json=definition,
                                                 headers=auth)
                    assert registered.status_code in (200, 201), registered.text
                worker = await http.post("/api/v1/workers", headers=auth, json={
                    "name": "bench", "actions": ["plain:t", "limited:t"], "slots": 10_000})
                worker_id = uuid.UUID(worker.json()["id"])
            results: dict[tuple[str, int], float] = {}
            for batch in args.batch:
                for case, definition in WORKFLOWS.items():
                    rates = []
                    for _ in range(args.repeat):
                        rates.append(await one_run(engine, tenant, worker_id,
                                                   str(definition["name"]), args, batch))
                    results[(case, batch)] = statistics.median(rates)
                    print(f"  {case:<12} batch {batch:>3}: {results[(case, batch)]:>8,.0f} "
                          "claims/s", flush=True)
            return results


async def one_run(
    engine: object, tenant: uuid.UUID, worker: uuid.UUID, workflow: str,
    args: argparse.Namespace, batch: int,
) -> float:
    from app.engine.runtime import Engine

    assert isinstance(engine, Engine)
    for start in range(0, args.tasks, 1000):
        await engine.trigger(tenant, workflow, [
            RunRequest(input={"k": f"key-{i % args.keys}", "i": i})
            for i in range(start, min(args.tasks, start + 1000))])
    claimed = 0
    claiming = 0.0
    while claimed < args.tasks:
        began = time.perf_counter()
        tasks = await engine.poll(tenant, worker, batch, 0)
        claiming += time.perf_counter() - began
        if not tasks:
            raise RuntimeError(f"claimed {claimed} of {args.tasks}, then nothing")
        claimed += len(tasks)
        await engine.complete(tenant, worker, [
            Result(task_run_id=t.task_run_id, lease_id=t.lease_id, outcome="succeeded",
                   output_json="null") for t in tasks])
    return claimed / claiming


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", type=int, default=20_000, help="tasks per measurement")
    parser.add_argument("--batch", type=int, nargs="+", default=[10, 50],
                        help="max_tasks per claim (several: one measurement each)")
    parser.add_argument("--keys", type=int, default=10, help="concurrency keys (round-robin)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per figure (median)")
    args = parser.parse_args()
    print(f"claim throughput, {args.tasks:,} tasks per figure, {args.keys} concurrency keys "
          f"(in-process Engine.poll, no HTTP), {os.cpu_count()} cores:", flush=True)
    results = asyncio.run(measure(args))
    for batch in args.batch:
        plain, limited = results[("plain", batch)], results[("concurrency", batch)]
        print(f"batch {batch}: without a concurrency limit {plain:,.0f} claims/s; with one "
              f"{limited:,.0f} claims/s ({limited / plain:.0%})")


if __name__ == "__main__":
    main()

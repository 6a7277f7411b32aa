"""What every scenario gets: the cluster, the processes, the report, the options — and a
``stack()`` helper bringing up a fresh database, a server, a tenant and worker processes."""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import httpx
import psutil
from kiln_bench import live
from kiln_bench.cluster import Cluster
from kiln_bench.report import Report, Row, Status


@dataclass
class Bench:
    cluster: Cluster
    procs: live.Processes
    report: Report
    status: Status
    options: argparse.Namespace
    measured: dict[str, float] = field(default_factory=dict)
    """Figures later scenarios use (e.g. the max throughput for latency-under-load)."""

    def record(self, scenario: str, system: str, data: dict[str, Any], rows: list[Row]) -> None:
        self.report.add({"scenario": scenario, "system": system, **data}, rows)

    @contextlib.asynccontextmanager
    async def stack(self, purpose: str, *, workflows: str = "noop", slots: int | None = None,
                    workers: int = 1, server_env: dict[str, str] | None = None,
                    worker_args: list[str] | None = None) -> AsyncIterator[Stack]:
        """A fresh migrated database, a server on it, one tenant, ``workers`` worker processes
        (all stopped and the database dropped on exit)."""
        self.status(f"{purpose}: database, server, tenant, worker…", force=True)
        database = await self.cluster.kiln_database(purpose)
        for setting in self.options.pg_setting or []:
            name, _, value = setting.partition("=")
            conn = await self.cluster.connect()
            try:  # identifiers cannot be bind parameters; quote_ident/quote_literal do it
                sql = await conn.fetchval(
                    "select format('ALTER DATABASE %I SET %s = %L', $1::text, $2::text, $3::text)",
                    database, name.strip(), value.strip())
                await conn.execute(sql)
            finally:
                await conn.close()
        started: list[live.Process] = []
        server: live.Server | None = None
        try:
            server = await live.start_server(self.procs, self.cluster, database, server_env)
            tenant = await live.make_tenant(server, f"bench-{purpose}")
            for index in range(workers):
                started.append(live.start_worker(
                    self.procs, server, tenant, workflows=workflows,
                    slots=slots or self.options.slots, name=f"{purpose}-{index}",
                    extra=worker_args))
            await live.wait_workers(self.cluster, database, [tenant.id], started)
            conn = await self.cluster.connect(database)
            try:
                async with httpx.AsyncClient(base_url=server.url, timeout=60) as http:
                    yield Stack(self, server, tenant, started, conn, http)
            finally:
                await conn.close()
        finally:
            for process in started:
                self.procs.stop(process)
            if server is not None:
                self.procs.stop(server.process)
            await self.cluster.drop_database(database)


@dataclass
class Stack:
    bench: Bench
    server: live.Server
    tenant: live.Tenant
    workers: list[live.Process]
    conn: asyncpg.Connection
    """Superuser connection to the scenario's database (reads past RLS, for measuring)."""
    http: httpx.AsyncClient

    def cpu(self) -> CpuMeter:
        return CpuMeter({"server": [self.server.process.pid],
                         "worker": [w.pid for w in self.workers]},
                        postgres=self.bench.cluster)


class CpuMeter:
    """CPU seconds used by groups of processes (server, workers, postgres backends) between
    :meth:`start` and :meth:`stop`, reported as cores busy on average. Postgres backends that
    exit in between are not counted (the bench keeps its pools open, so few do)."""

    def __init__(self, groups: dict[str, list[int]], postgres: Cluster | None = None) -> None:
        self.groups = groups
        self.postgres = postgres
        self._before: dict[int, float] = {}

    def _pids(self) -> dict[str, list[int]]:
        groups = dict(self.groups)
        if self.postgres is not None and self.postgres.server is not None:
            groups["postgres"] = [p.pid for p in psutil.process_iter(["name"])
                                  if p.info["name"] == "postgres"]
        return groups

    @staticmethod
    def _used(pid: int) -> float | None:
        try:
            times = psutil.Process(pid).cpu_times()
        except psutil.Error:
            return None
        return float(times.user + times.system)

    def start(self) -> None:
        self._before = {pid: used for pids in self._pids().values() for pid in pids
                        if (used := self._used(pid)) is not None}

    def stop(self, seconds: float) -> dict[str, float]:
        out = {}
        for name, pids in self._pids().items():
            total = 0.0
            for pid in pids:
                used = self._used(pid)
                if used is not None:
                    total += used - self._before.get(pid, 0.0)
            out[name] = round(total / max(seconds, 1e-9), 2)
        return out

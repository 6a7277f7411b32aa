"""ops/bench — Kiln's benchmark runner (issue 9).

Starts its own Postgres (embedded in a temporary directory, or the superuser URL in
KILN_DATABASE_URL, on which it creates and drops its own databases), its own `kiln server start`
subprocesses and real SDK worker processes, runs the chosen scenarios, and prints a table plus one
JSON line per scenario; everything also goes to ops/bench/results/<timestamp>.json.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from kiln_bench import live
from kiln_bench.bench import Bench
from kiln_bench.cluster import Cluster
from kiln_bench.report import RESULTS_DIR, Report, Status
from kiln_bench.scenarios import ALL, BY_NAME, ON_REQUEST

# option: (full default, --quick default, help)
SIZES: dict[str, tuple[Any, Any, str]] = {
    "n": (20_000, 2_000, "no-op tasks per throughput drain (throughput, depth, compare)"),
    "latency_runs": (200, 50, "probe runs, one at a time (latency, latency-under-load, compare)"),
    "dag_runs": (2_000, 300, "diamond runs triggered in bulk"),
    "dag_sequential": (50, 10, "diamond runs triggered one at a time"),
    "fanout_runs": (5, 2, "fan-out runs of each kind, one at a time"),
    "fanout_children": (1_000, 1_000, "child runs one parent spawns (fanout)"),
    "depth_items": (1_000_000, 20_000, "delayed (not yet due) retries inserted before the drain"),
    "tenants": (1_000, 50, "tenants in the database (tenants scenario)"),
    "sampled": (5, 3, "tenants among them with a worker process, measured"),
    "tenant_backlog": (100, 20, "queued tasks of every unsampled tenant"),
    "tenant_runs": (2_000, 300, "tasks each sampled tenant drains"),
    "idle_seconds": (30.0, 10.0, "length of the idle measurement"),
    "soak_seconds": (3_600.0, 120.0, "length of the soak (run only when named)"),
    "soak_retention_minutes": (5.0, 0.5, "tenant retention during the soak (finished runs older "
                               "are removed)"),
    "timeout": (1_200.0, 300.0, "seconds one scenario may take (compare: 3x)"),
}

EPILOG = "scenarios (default: all, in this order):\n" + "\n".join(
    f"  {m.NAME:<20} {(m.__doc__ or '').split(':', 1)[-1].strip().splitlines()[0]}"
    for m in ALL + ON_REQUEST
) + """

examples:
  ops/bench/run --quick                    every scenario, small N (a few minutes)
  ops/bench/run throughput latency dag     the issue's defaults (20,000 tasks, 200 probes, …)
  ops/bench/run compare                    Kiln vs pgqueuer (batch 10 and 50) vs procrastinate
  ops/bench/run throughput dag --profile   + pg_stat_statements and py-spy of server and worker

The machine is shared and has 2 cores: compare figures within one run (the compare scenario
prints ratios), not across runs. KILN_BENCH_SKIP_INSTALL=1 skips syncing .venv first.
"""


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="ops/bench/run", description=__doc__, epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("scenarios", nargs="*", metavar="SCENARIO",
                        help="scenarios to run (see below); default: all")
    parser.add_argument("--quick", action="store_true",
                        help="small sizes for every option not given explicitly")
    parser.add_argument("--profile", action="store_true",
                        help="throughput and dag: pg_stat_statements and py-spy (server, worker); "
                             "the summary is printed and saved next to the results")
    parser.add_argument("--explain", metavar="MS", type=int,
                        help="embedded Postgres: log the plans (with actual rows and buffers) of "
                             "statements slower than MS ms (auto_explain), saved as "
                             "results/<timestamp>-slow-plans.txt")
    parser.add_argument("--analyze", action="store_true",
                        help="experiment: ANALYZE the engine tables once all runs of a bulk "
                             "drain are triggered (a fresh database has no statistics for a "
                             "minute; cached plans then scan a tenant's every row)")
    parser.add_argument("--pg-setting", metavar="NAME=VALUE", action="append",
                        help="experiment: ALTER DATABASE … SET NAME = VALUE on every Kiln "
                             "database of the run (e.g. plan_cache_mode=force_custom_plan); "
                             "repeatable")
    parser.add_argument("--rev", metavar="REV",
                        help="bench the server and SDK of a git revision (e.g. HEAD: what is "
                             "committed, not the shared working tree's edits in progress); "
                             "exported with git archive to a temporary directory")
    parser.add_argument("--slots", type=int, default=50,
                        help="slots of each Kiln worker process (default: 50)")
    parser.add_argument("--callers", type=int, default=4,
                        help="concurrent bulk-trigger callers, ≤1,000 runs per call (default: 4)")
    parser.add_argument("--soak-rate", type=float, default=None,
                        help="soak: runs/s to offer (default: --load-fraction of the max)")
    parser.add_argument("--load-fraction", type=float, default=0.5,
                        help="latency-under-load: background rate as a share of the max "
                             "(default: 0.5)")
    for name, (full, quick, text) in SIZES.items():
        parser.add_argument(f"--{name.replace('_', '-')}", type=type(full), default=None,
                            help=f"{text} (default: {full:,}; --quick: {quick:,})")
    args = parser.parse_args(argv)
    for name, (full, quick, _) in SIZES.items():
        if getattr(args, name) is None:
            setattr(args, name, quick if args.quick else full)
    unknown = [name for name in args.scenarios if name not in BY_NAME]
    if unknown:
        parser.error(f"unknown scenario {', '.join(unknown)}; choose from {', '.join(BY_NAME)}")
    args.scenarios = args.scenarios or [m.NAME for m in ALL]
    return args


def _environment(cluster: Cluster, version: str, args: argparse.Namespace) -> dict[str, Any]:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True, cwd=live.ROOT, check=False).stdout.strip()
    revision = os.environ.get("KILN_BENCH_REVISION")
    source = f"git archive {revision}" if revision else "working tree (uncommitted edits included)"
    return {"commit": revision or commit, "source": source,
            "python": platform.python_version(), "cores": os.cpu_count(),
            "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
            "postgres": version, "postgres_kind": cluster.kind,
            "pg_stat_statements": cluster.has_statements,
            "options": dict(vars(args).items())}


async def _run(bench: Bench) -> int:
    failures = 0
    for name in bench.options.scenarios:
        module = BY_NAME[name]
        bench.status.scenario = name
        budget = bench.options.timeout * (3 if name == "compare" else 1)
        if name == "soak":
            budget += bench.options.soak_seconds
        started = time.monotonic()
        try:
            await asyncio.wait_for(module.run(bench), timeout=budget)
        except Exception as exc:  # one failed scenario must not stop the others
            failures += 1
            message = f"{type(exc).__name__}: {exc}"
            bench.status.done(f"FAILED after {time.monotonic() - started:.0f}s: {message}")
            bench.record(name, "kiln", {"error": message[:2000]}, [])
    bench.report.environment["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    return failures


def _at_revision(rev: str, argv: list[str]) -> int:
    """Run this same command again with ``app``, ``migrations`` and the SDK of ``rev`` first on
    PYTHONPATH (inherited by the server and worker processes)."""
    snapshot = Path(tempfile.mkdtemp(prefix="kiln-bench-src-"))
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", rev], capture_output=True,
                                text=True, cwd=live.ROOT, check=True).stdout.strip()
        archive = subprocess.run(["git", "archive", commit, "app", "migrations", "sdk"],
                                 capture_output=True, cwd=live.ROOT, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(snapshot)], input=archive, check=True)
        path = os.pathsep.join([str(snapshot), str(snapshot / "sdk"),
                                os.environ.get("PYTHONPATH", "")])
        env = {**os.environ, "PYTHONPATH": path, "KILN_BENCH_REVISION": commit}
        child = subprocess.Popen([sys.executable, "-m", "kiln_bench", *argv], env=env)
        signal.signal(signal.SIGTERM, lambda *_: child.terminate())  # the child cleans up
        while True:
            try:
                return child.wait()
            except KeyboardInterrupt:
                # Ctrl-C reached the child too and it is cleaning up: wait for it (not
                # subprocess.run, which would SIGKILL it and orphan its servers).
                continue
    finally:
        shutil.rmtree(snapshot, ignore_errors=True)


def _keep_logs(workdir: Path, report: Report) -> None:
    """Copy the server and worker logs next to the results when something failed."""
    logs = sorted(workdir.glob("*.log"))
    if logs:
        target = RESULTS_DIR / f"{report.started_at}-logs"
        target.mkdir(parents=True, exist_ok=True)
        for log in logs:
            shutil.copy(log, target / log.name)
        sys.stderr.write(f"bench: logs of this run kept in {target}\n")


def _raise_interrupt(*_: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str]) -> int:
    args = parse(argv)
    if args.rev and "KILN_BENCH_REVISION" not in os.environ:
        return _at_revision(args.rev, argv)
    signal.signal(signal.SIGTERM, _raise_interrupt)
    workdir = Path(tempfile.mkdtemp(prefix="kiln-bench-"))
    procs = live.Processes(workdir)
    status, report = Status(), Report()
    cluster: Cluster | None = None
    code = 1
    try:
        status.scenario = "setup"
        status("starting Postgres…", force=True)
        statements = args.profile or "idle" in args.scenarios
        cluster = Cluster.start(workdir / "pg", statements=statements, explain_ms=args.explain)
        version = asyncio.run(cluster.check())
        report.environment = _environment(cluster, version, args)
        bench = Bench(cluster, procs, report, status, args)
        failures = asyncio.run(_run(bench))
        code = 1 if failures else 0
    except KeyboardInterrupt:
        status.done("interrupted: stopping processes and cleaning up")
        code = 130
    finally:
        procs.stop_all()
        if code != 0:
            _keep_logs(workdir, report)
        if cluster is not None and args.explain is not None:
            RESULTS_DIR.mkdir(parents=True, exist_ok=True)
            plans = RESULTS_DIR / f"{report.started_at}-slow-plans.txt"
            plans.write_text(cluster.slow_plans() + "\n")
            sys.stderr.write(f"bench: plans of slow statements in {plans}\n")
        if cluster is not None:
            if cluster.server is None:
                asyncio.run(cluster.drop_all())
            cluster.stop()
        shutil.rmtree(workdir, ignore_errors=True)
        if report.rows:
            sys.stdout.write("\n" + report.table() + "\n")
        if report.scenarios:
            sys.stdout.write(f"\nresults: {report.write()}\n")
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""``--profile``: where the time goes during a drain.

* Postgres: ``pg_stat_statements`` is reset before the drain and read after it — statements of
  the scenario's database by total execution time (embedded Postgres: preloaded at start; with
  KILN_DATABASE_URL only if that server preloads it).
* Python: ``py-spy record --format raw`` on the server and the worker process for the drain;
  the collapsed stacks are summarised as top frames by own ("self") and inclusive samples,
  leaving out samples where the event loop waited in ``select``/``epoll`` (idle).
"""

from __future__ import annotations

import collections
import contextlib
import re
import signal
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kiln_bench import peers_venv
from kiln_bench.bench import Bench, Stack
from kiln_bench.report import RESULTS_DIR

# Leaf frames that mean "waiting": uvloop's loop is C, so a waiting loop shows as Runner.run.
IDLE_LEAVES = (
    "select (selectors.py", "EpollSelector.select (selectors.py", "poll (selectors.py",
    "_run_once (asyncio/base_events.py", "Runner.run (asyncio/runners.py",
    "run_forever (asyncio/base_events.py", "wait (threading.py",
    "_worker (concurrent/futures/thread.py",
)
RATE = 100
_FRAME = re.compile(r"^(?P<fn>.*?) \((?P<path>[^()]*?)(?::\d+)?\)$")


@dataclass
class Profile:
    spies: list[tuple[str, subprocess.Popen[bytes], Path]] = field(default_factory=list)


@contextlib.asynccontextmanager
async def around(bench: Bench, stack: Stack, tasks: int,
                 label: str) -> AsyncIterator[dict[str, Any]]:
    """Profile the enclosed block when ``--profile`` is on; the yielded dict gets the summary."""
    summary: dict[str, Any] = {}
    if not bench.options.profile:
        yield summary
        return
    await reset_statements(bench)
    profile = start(bench, stack, label)
    try:
        yield summary
    finally:
        summary.update(await stop(bench, stack, profile, tasks, label))
        bench.status.done(f"profile: {summary['markdown']}")


def start(bench: Bench, stack: Stack, label: str) -> Profile:
    profile = Profile()
    spy = peers_venv.ensure().parent / "py-spy"
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    targets = [("server", stack.server.process.pid), ("worker", stack.workers[0].pid)]
    for name, pid in targets:
        out = RESULTS_DIR / f"{bench.report.started_at}-{label}-{name}.pyspy.txt"
        popen = subprocess.Popen(
            [str(spy), "record", "--pid", str(pid), "--rate", str(RATE), "--format", "raw",
             "--nonblocking", "--output", str(out)],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
        profile.spies.append((name, popen, out))
    bench.status("profile: py-spy attached", force=True)
    return profile


async def reset_statements(bench: Bench) -> None:
    if bench.cluster.has_statements:
        conn = await bench.cluster.connect()
        try:
            await conn.execute("select pg_stat_statements_reset()")
        finally:
            await conn.close()


async def stop(bench: Bench, stack: Stack, profile: Profile, tasks: int,
               label: str) -> dict[str, Any]:
    summary: dict[str, Any] = {"tasks": tasks, "label": label}
    for name, popen, out in profile.spies:
        popen.send_signal(signal.SIGINT)
        try:
            _, err = popen.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            popen.kill()
            _, err = popen.communicate()
        if out.exists():
            summary[f"python_{name}"] = frames(out.read_text())
            summary[f"python_{name}"]["raw"] = str(out)
        else:
            summary[f"python_{name}"] = {"error": err.decode(errors="replace")[-500:]}
    summary["statements"], summary["statements_total"] = await statements(
        bench, stack.server.database)
    path = RESULTS_DIR / f"{bench.report.started_at}-{label}-profile.md"
    path.write_text(markdown(summary))
    summary["markdown"] = str(path)
    return summary


async def statements(bench: Bench, database: str,
                     limit: int = 25) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Top statements by total time, and the totals (calls, execution ms) of the database."""
    if not bench.cluster.has_statements:
        return [{"error": "pg_stat_statements is not preloaded on this server"}], {}
    conn = await bench.cluster.connect()
    try:
        rows = await conn.fetch(
            "select s.query, s.calls, s.total_exec_time, s.mean_exec_time, s.rows,"
            " 100 * s.total_exec_time / sum(s.total_exec_time) over () as share"
            " from pg_stat_statements s join pg_database d on d.oid = s.dbid"
            " where d.datname = $1 order by s.total_exec_time desc limit $2", database, limit)
        totals = await conn.fetchrow(
            "select sum(s.calls)::bigint as calls, sum(s.total_exec_time)::float8 as ms"
            " from pg_stat_statements s join pg_database d on d.oid = s.dbid"
            " where d.datname = $1", database)
    finally:
        await conn.close()
    return [{"query": _name(r["query"]), "calls": r["calls"],
             "total_ms": round(r["total_exec_time"], 1), "mean_ms": round(r["mean_exec_time"], 3),
             "rows": r["rows"], "share_pct": round(float(r["share"]), 1)} for r in rows], {
        "calls": totals["calls"], "exec_ms": round(totals["ms"] or 0.0, 1)}


def _name(query: str) -> str:
    """The engine query's name when the text is one of app/engine/sql/*.sql, else the text."""
    from app.engine import queries  # the .venv has the server package

    flat = " ".join(query.split())
    for name, sql in queries.load().items():
        if flat.startswith(" ".join(sql.split())[:60]):
            return f"[{name}] {flat[:110]}"
    return flat[:160]


def _short(frame: str) -> str:
    match = _FRAME.match(frame.strip())
    if not match:
        return frame.strip()
    path = match["path"].replace("\\", "/")
    if "site-packages/" in path:
        path = path.split("site-packages/", 1)[1]
    elif "/work/main/" in path or path.startswith("/"):
        path = "/".join(path.split("/")[-3:])
    return f"{match['fn']} ({path})"


def frames(raw: str, limit: int = 20) -> dict[str, Any]:
    """Top frames by self and inclusive samples in py-spy's collapsed-stack output."""
    own: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    total = idle = 0
    for line in raw.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        names = [_short(f) for f in stack.split(";") if f and not f.startswith(("process ",
                                                                                  "thread "))]
        if not names:
            continue
        total += n
        if names[-1].startswith(IDLE_LEAVES):
            idle += n
            continue
        own[names[-1]] += n
        for name in set(names):
            inclusive[name] += n
    busy = max(total - idle, 1)
    return {
        "samples": total, "idle_pct": round(100 * idle / max(total, 1), 1),
        "self": [{"frame": f, "pct_of_busy": round(100 * n / busy, 1)}
                 for f, n in own.most_common(limit)],
        "inclusive": [{"frame": f, "pct_of_busy": round(100 * n / busy, 1)}
                      for f, n in inclusive.most_common(limit * 2)],
    }


def markdown(summary: dict[str, Any]) -> str:
    tasks = summary["tasks"]
    totals = summary.get("statements_total") or {}
    out = [f"# Profile of the {summary['label']} drain ({tasks:,} no-op tasks)", "",
           "## Postgres: statements by total time", ""]
    if totals:
        out += [f"{totals['calls']:,} statements ({totals['calls'] / tasks:.2f} per task), "
                f"{totals['exec_ms']:,} ms of execution ({1000 * totals['exec_ms'] / tasks:.0f} us "
                "per task); calls/1k = calls per 1,000 tasks.", ""]
    out += ["| share | calls | calls/1k | total ms | mean ms | rows | statement |",
            "|---|---|---|---|---|---|---|"]
    for s in summary["statements"]:
        if "error" in s:
            out.append(f"| | | | | | | {s['error']} |")
            continue
        query = s["query"].replace("|", "\\|")
        out.append(f"| {s['share_pct']}% | {s['calls']:,} | {1000 * s['calls'] / tasks:.0f} | "
                   f"{s['total_ms']:,} | {s['mean_ms']} | {s['rows']:,} | `{query}` |")
    for name in ("server", "worker"):
        data = summary.get(f"python_{name}", {})
        out += ["", f"## Python: {name} (py-spy, {RATE} Hz)", ""]
        if "error" in data:
            out.append(f"py-spy failed: {data['error']}")
            continue
        out.append(f"{data['samples']:,} samples, {data['idle_pct']}% idle (event loop in "
                   "select/epoll or idle threads); percentages below are of the busy samples.")
        for kind in ("self", "inclusive"):
            out += ["", f"Top frames ({kind}):", ""]
            out += [f"- {f['pct_of_busy']}% {f['frame']}" for f in data[kind][:20]]
    return "\n".join(out) + "\n"

"""The engine's invariants, checked against what the database and an external effect log hold.

Used by the fault suite (``tests/chaos``) after every scenario and by the queue state machine
(``tests/fuzz``) after every step. Checks run as the database owner (RLS does not apply).

* A test-only trigger (:func:`install_transition_log`) records every status, attempt or lease
  change of ``task_runs`` and every status change of ``workflow_runs`` in ``test_transitions``:
  "a terminal state is written once" is then a count, not a guess.
* The effect log is an append-only file the tasks write, one JSON line per execution:
  ``{"run", "task", "task_run_id", "attempt", "pid", ...}``; task outputs carry ``pid`` and
  ``attempt`` too, so which execution's result was kept is visible.

:func:`check` returns a :class:`Report`: how many (invariant, subject) pairs were checked and
every violation found, each naming the invariant.
"""

from __future__ import annotations

import collections
import json
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg

TERMINAL = frozenset({"succeeded", "failed", "cancelled"})

# old → new status transitions the engine may make (None: the row was inserted).
TASK_TRANSITIONS = frozenset({
    (None, "pending"), (None, "queued"),
    ("pending", "queued"), ("pending", "cancelled"),
    ("queued", "running"), ("queued", "cancelled"), ("queued", "failed"),
    ("running", "succeeded"), ("running", "failed"), ("running", "pending"),
    ("running", "queued"), ("running", "cancelled"),
})
# A replay reopens a finished run: its tasks (and the run) leave a terminal state for these.
REOPEN = frozenset({(old, new) for old in TERMINAL for new in ("queued", "pending")})
RUN_TRANSITIONS = frozenset({
    (None, "queued"), (None, "pending"), ("pending", "queued"),
    ("queued", "running"),
    *((old, new) for old in ("pending", "queued", "running") for new in TERMINAL),
})

INSTALL_SQL = """
CREATE TABLE IF NOT EXISTS test_transitions (
  seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  kind text NOT NULL,
  tenant_id uuid NOT NULL,
  id uuid NOT NULL,
  run_id uuid,
  task_name text,
  old_status text,
  new_status text NOT NULL,
  old_attempt integer,
  new_attempt integer,
  old_lease uuid,
  new_lease uuid,
  worker_id uuid,
  output jsonb,
  at timestamptz NOT NULL DEFAULT clock_timestamp()
);

CREATE OR REPLACE FUNCTION test_record_task_transition() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO test_transitions (kind, tenant_id, id, run_id, task_name, new_status,
      new_attempt, new_lease, worker_id, output)
    VALUES ('task', NEW.tenant_id, NEW.id, NEW.run_id, NEW.task_name, NEW.status, NEW.attempt,
      NEW.lease_id, NEW.worker_id, NEW.output);
  ELSIF NEW.status IS DISTINCT FROM OLD.status OR NEW.attempt IS DISTINCT FROM OLD.attempt
        OR NEW.lease_id IS DISTINCT FROM OLD.lease_id THEN
    INSERT INTO test_transitions (kind, tenant_id, id, run_id, task_name, old_status,
      new_status, old_attempt, new_attempt, old_lease, new_lease, worker_id, output)
    VALUES ('task', NEW.tenant_id, NEW.id, NEW.run_id, NEW.task_name, OLD.status, NEW.status,
      OLD.attempt, NEW.attempt, OLD.lease_id, NEW.lease_id, NEW.worker_id, NEW.output);
  END IF;
  RETURN NEW;
END $$;

CREATE OR REPLACE FUNCTION test_record_run_transition() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO test_transitions (kind, tenant_id, id, new_status)
    VALUES ('run', NEW.tenant_id, NEW.id, NEW.status);
  ELSIF NEW.status IS DISTINCT FROM OLD.status THEN
    INSERT INTO test_transitions (kind, tenant_id, id, old_status, new_status, output)
    VALUES ('run', NEW.tenant_id, NEW.id, OLD.status, NEW.status, NEW.output);
  END IF;
  RETURN NEW;
END $$;

DROP TRIGGER IF EXISTS test_task_transitions ON task_runs;
CREATE TRIGGER test_task_transitions AFTER INSERT OR UPDATE ON task_runs
  FOR EACH ROW EXECUTE FUNCTION test_record_task_transition();
DROP TRIGGER IF EXISTS test_run_transitions ON workflow_runs;
CREATE TRIGGER test_run_transitions AFTER INSERT OR UPDATE ON workflow_runs
  FOR EACH ROW EXECUTE FUNCTION test_record_run_transition();
"""


async def install_transition_log(owner: asyncpg.Connection) -> None:
    """Record task and run transitions in ``test_transitions`` (install in the test database
    only: it is instrumentation, never part of the schema)."""
    await owner.execute(INSTALL_SQL)


@dataclass
class Report:
    """What :func:`check` looked at and what it found."""

    checked: collections.Counter[str] = field(default_factory=collections.Counter)
    violations: list[str] = field(default_factory=list)

    def expect(self, invariant: str, holds: bool, detail: str) -> None:
        self.checked[invariant] += 1
        if not holds:
            self.violations.append(f"{invariant}: {detail}")

    @property
    def total(self) -> int:
        return sum(self.checked.values())

    def assert_ok(self) -> None:
        if self.violations:
            shown = "\n  ".join(self.violations[:40])
            more = len(self.violations) - 40
            raise AssertionError(
                f"{len(self.violations)} invariant violation(s) in {self.total} checks:\n  {shown}"
                + (f"\n  … and {more} more" if more > 0 else ""))


def read_effects(path: Path) -> list[dict[str, Any]]:
    """The effect log's lines (a missing file is an empty log)."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _key(value: Any) -> str:
    return str(value)


def _kind(task: Mapping[str, Any]) -> str:
    return str(task.get("kind") or "task")


def _json(value: Any) -> Any:
    """jsonb as the connection returns it: decoded already, or text without a type codec."""
    return json.loads(value) if isinstance(value, str) else value


async def check(
    owner: asyncpg.Connection, *, max_rescues: int, quiescent: bool,
    accepted: Iterable[str | uuid.UUID] = (), effects: Iterable[Mapping[str, Any]] | None = None,
    tenant_id: str | uuid.UUID | None = None,
) -> Report:
    """Check every invariant; ``quiescent`` means no work may be in flight any more (every run
    must have reached a terminal state). ``effects`` is the effect log, when tasks keep one."""
    report = Report()
    where, args = ("WHERE tenant_id = $1", [uuid.UUID(str(tenant_id))]) if tenant_id else ("", [])
    runs = {_key(r["id"]): r for r in await owner.fetch(
        f"SELECT * FROM workflow_runs {where}", *args)}
    tasks = {_key(t["id"]): t for t in await owner.fetch(
        f"SELECT * FROM task_runs {where}", *args)}
    attempts: dict[str, list[asyncpg.Record]] = collections.defaultdict(list)
    for a in await owner.fetch(f"SELECT * FROM task_attempts {where} ORDER BY attempt", *args):
        attempts[_key(a["task_run_id"])].append(a)
    queue = collections.Counter(_key(q["task_run_id"]) for q in await owner.fetch(
        f"SELECT task_run_id FROM queue_items {where}", *args))
    if await owner.fetchval("SELECT to_regclass('flow_queue') IS NOT NULL"):
        # Flow-controlled tasks (concurrency, rate limits…) wait in their own queue.
        queue.update(_key(q["task_run_id"]) for q in await owner.fetch(
            f"SELECT task_run_id FROM flow_queue {where}", *args))
    transitions = await owner.fetch(f"SELECT * FROM test_transitions {where} ORDER BY seq", *args)

    _check_accepted(report, runs, accepted, quiescent)
    _check_runs(report, runs, tasks)
    reopened_after = _check_transitions(report, runs, tasks, transitions)
    _check_tasks(report, tasks, attempts, queue, max_rescues, reopened_after)
    if effects is not None:
        _check_effects(report, tasks, list(effects))
    return report


def _check_accepted(report: Report, runs: Mapping[str, Any], accepted: Iterable[Any],
                    quiescent: bool) -> None:
    for run_id in map(_key, accepted):
        run = runs.get(run_id)
        report.expect("accepted run stored", run is not None, f"run {run_id} was accepted "
                      "by the API but is not in workflow_runs")
        if run is not None and quiescent:
            report.expect("accepted run terminal", run["status"] in TERMINAL,
                          f"run {run_id} is still {run['status']}")
    if quiescent:
        for run_id, run in runs.items():
            report.expect("every run terminal", run["status"] in TERMINAL,
                          f"run {run_id} is still {run['status']}")


def _check_runs(report: Report, runs: Mapping[str, Any], tasks: Mapping[str, Any]) -> None:
    by_run: dict[str, list[Any]] = collections.defaultdict(list)
    for task in tasks.values():
        by_run[_key(task["run_id"])].append(task)
    for run_id, run in runs.items():
        own = by_run.get(run_id, [])
        unfinished = [t for t in own if t["status"] not in TERMINAL]
        report.expect("pending_tasks counts unfinished tasks", run["pending_tasks"] ==
                      len(unfinished), f"run {run_id} says {run['pending_tasks']} pending, "
                      f"has {len(unfinished)} unfinished tasks")
        if run["status"] not in TERMINAL:
            continue
        statuses = {t["status"] for t in own if _kind(t) == "task"}
        expected = ("failed" if "failed" in statuses else
                    "cancelled" if "cancelled" in statuses else "succeeded")
        report.expect("terminal run's tasks terminal", not unfinished,
                      f"run {run_id} is {run['status']} but tasks "
                      f"{[(t['task_name'], t['status']) for t in unfinished]} are not")
        report.expect("run status follows its tasks", run["status"] == expected,
                      f"run {run_id} is {run['status']}, its tasks say {expected}")
        if run["status"] == "succeeded":
            leaves = {t["task_name"]: _json(t["output"]) for t in own
                      if t["is_leaf"] and t["status"] == "succeeded"}
            report.expect("run output is its leaves' outputs",
                          _json(run["output"]) == (leaves or None),
                          f"run {run_id} output {run['output']!r} != leaves {leaves!r}")


def _check_tasks(report: Report, tasks: Mapping[str, Any], attempts: Mapping[str, list[Any]],
                 queue: Mapping[str, int], max_rescues: int,
                 reopened_after: Mapping[str, int]) -> None:
    for task_id, task in tasks.items():
        name = f"task {task['task_name']} ({task_id}) of run {task['run_id']}"
        history = list(attempts.get(task_id, []))
        if task["status"] == "succeeded" and all(a["attempt"] != task["attempt"] for a in history):
            # A succeeded attempt has no history row: the task row is it (finish_tasks).
            history.append({"attempt": task["attempt"], "status": "succeeded"})
        numbers = [a["attempt"] for a in history]
        finished = task["attempt"] - 1 if task["status"] == "running" else task["attempt"]
        report.expect("attempts numbered 1..n without gaps",
                      numbers == list(range(1, finished + 1)),
                      f"{name} is {task['status']} at attempt {task['attempt']}, "
                      f"history has attempts {numbers}")
        # A replay starts a new epoch: earlier attempts keep their history.
        epoch = [a for a in history if a["attempt"] > reopened_after.get(task_id, 0)]
        succeeded = [a for a in epoch if a["status"] == "succeeded"]
        report.expect("at most one succeeded attempt", len(succeeded) <= 1,
                      f"{name} has {len(succeeded)} succeeded attempts")
        if task["status"] == "succeeded":
            report.expect("succeeded task's last attempt succeeded",
                          bool(epoch) and epoch[-1]["status"] == "succeeded",
                          f"{name} succeeded, attempts {[a['status'] for a in history]}")
        elif succeeded:
            report.expect("no succeeded attempt of an unsucceeded task", False,
                          f"{name} is {task['status']} but attempt {succeeded[0]['attempt']} "
                          "succeeded")
        # Released attempts (a worker stopping gracefully hands the task back) use up neither a
        # retry nor a rescue.
        releases = task.get("releases") or 0
        bound = task["max_attempts"] + max_rescues + releases
        report.expect("attempts within retries + 1 + max_rescues (+ releases)",
                      task["attempt"] <= bound,
                      f"{name} ran {task['attempt']} attempts, bound {bound}")
        released = sum(a["status"] == "released" for a in epoch)
        report.expect("releases count the released attempts", releases == released
                      or "releases" not in task, f"{name} has releases={releases}, "
                      f"{released} released attempts")
        lost = sum(a["status"] == "lost" for a in epoch)
        report.expect("rescues count the lost attempts", task["rescues"] == lost,
                      f"{name} has rescues={task['rescues']}, {lost} lost attempts")
        report.expect("rescues within max_rescues + 1", task["rescues"] <= max_rescues + 1,
                      f"{name} was rescued {task['rescues']} times")
        items = queue.get(task_id, 0)
        report.expect("queued ⇔ exactly one queue row",
                      items == (1 if task["status"] == "queued" else 0),
                      f"{name} is {task['status']} with {items} queue item(s)")


def _check_transitions(report: Report, runs: Mapping[str, Any], tasks: Mapping[str, Any],
                       transitions: list[Any]) -> dict[str, int]:
    """Check the transition log; return, per reopened task, its attempt when last reopened."""
    into_terminal: collections.Counter[tuple[str, str]] = collections.Counter()
    reopens: collections.Counter[tuple[str, str]] = collections.Counter()
    reopened_after: dict[str, int] = {}
    last_claim: dict[str, tuple[int, Any]] = {}
    for t in transitions:
        kind, ident = t["kind"], _key(t["id"])
        pair = (t["old_status"], t["new_status"])
        allowed = TASK_TRANSITIONS if kind == "task" else RUN_TRANSITIONS
        if t["old_status"] == t["new_status"]:
            report.expect("no lease or attempt change without a status change", False,
                          f"{kind} {ident} stayed {t['new_status']} but attempt "
                          f"{t['old_attempt']}→{t['new_attempt']}, lease changed")
            continue
        if pair in REOPEN:
            reopens[(kind, ident)] += 1
            if kind == "task":
                reopened_after[ident] = t["old_attempt"]
        else:
            report.expect(f"legal {kind} transition", pair in allowed,
                          f"{kind} {ident} went {pair[0]} → {pair[1]}")
        if t["new_status"] in TERMINAL:
            into_terminal[(kind, ident)] += 1
        if kind != "task":
            continue
        if pair == ("queued", "running"):
            report.expect("a claim starts the next attempt",
                          t["new_attempt"] == (t["old_attempt"] or 0) + 1,
                          f"task {ident} claimed at attempt {t['new_attempt']} after "
                          f"{t['old_attempt']}")
            last_claim[ident] = (t["new_attempt"], t["new_lease"])
        elif t["old_status"] == "running":
            claim = last_claim.get(ident)
            report.expect("a result is fenced on the current lease",
                          claim is not None and claim[1] == t["old_lease"],
                          f"task {ident} left running under lease {t['old_lease']}, the last "
                          f"claim gave {claim}")
    for kind, rows in (("task", tasks), ("run", runs)):
        for ident, row in rows.items():
            count = into_terminal[(kind, ident)] - reopens[(kind, ident)]
            want = 1 if row["status"] in TERMINAL else 0
            report.expect(f"one terminal transition per {kind} (per replay)", count == want,
                          f"{kind} {ident} is {row['status']} after "
                          f"{into_terminal[(kind, ident)]} terminal transitions and "
                          f"{reopens[(kind, ident)]} replays")
    return reopened_after


def _check_effects(report: Report, tasks: Mapping[str, Any],
                   effects: list[Mapping[str, Any]]) -> None:
    ran: dict[str, set[tuple[int, int]]] = collections.defaultdict(set)
    for line in effects:
        task = tasks.get(_key(line.get("task_run_id")))
        report.expect("effect of a known task", task is not None,
                      f"effect line {line} names no task run")
        if task is None:
            continue
        ran[_key(task["id"])].add((int(line["attempt"]), int(line["pid"])))
        report.expect("effect of a claimed attempt", 1 <= int(line["attempt"]) <= task["attempt"],
                      f"effect of attempt {line['attempt']} of {task['task_name']} "
                      f"({task['id']}), which reached attempt {task['attempt']}")
    for task_id, task in tasks.items():
        if task["status"] != "succeeded":
            continue
        output = _json(task["output"])
        output = output if isinstance(output, dict) else {}
        kept = (output.get("attempt"), output.get("pid"))
        report.expect("kept output comes from the final attempt",
                      kept[0] == task["attempt"],
                      f"{task['task_name']} ({task_id}) kept the output of attempt {kept[0]} "
                      f"(pid {kept[1]}) but its final attempt is {task['attempt']}")
        report.expect("kept output's execution is in the effect log", kept in ran[task_id],
                      f"{task['task_name']} ({task_id}) kept output of {kept}, effects show "
                      f"{sorted(ran[task_id])}")

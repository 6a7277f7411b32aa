"""A rule-based state machine over the real queue: trigger, claim, heartbeat, complete (succeed,
fail, fail for good, release — with current and stale leases), lease expiry, execution deadline,
due retries, cancel and replay, driving the ``app.engine.queue`` functions on a real database as
the tenant and engine roles, exactly as the server does. Time is the only thing faked: a rule
that needs a lease, deadline or backoff to have passed moves that timestamp into the past.

After every step the invariants of tests/support/invariants.py must hold for the example's tenant,
and each rule checks what it alone can know (the accepted results are exactly those whose lease
was current; a rejected result changes nothing; a heartbeat names exactly the lost leases…).
"""

from __future__ import annotations

import asyncio
import collections
import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import asyncpg
import msgspec
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    rule,
    run_state_machine_as_test,
)

from app.core.errors import Conflict, NotFound
from app.db import tenancy, urls
from app.db.database import _init_connection
from app.domain.workflows import validation
from app.domain.workflows.schemas import WorkflowDefinition
from app.engine.config import EngineConfig
from app.engine.queue import claim, control, results, sweeps, trigger
from app.engine.spec import SpecCache
from tests.fuzz import tally
from tests.support import invariants
from tests.support.databases import AUTHENTICATOR_PASSWORD

T = TypeVar("T")
log = logging.getLogger("kiln.fuzz")
MAX_RESCUES = 2
CONFIG = EngineConfig(lease_seconds=300, max_rescues=MAX_RESCUES, sweep_batch=500)
WORKFLOWS = {
    "single": {"name": "single", "tasks": [{"name": "only", "retries": 1}]},
    "diamond": {"name": "diamond", "tasks": [
        {"name": "a", "retries": 2}, {"name": "b", "parents": ["a"]},
        {"name": "c", "parents": ["a"], "retries": 1}, {"name": "d", "parents": ["b", "c"]}]},
    "guarded": {"name": "guarded", "tasks": [{"name": "step"}],
                "on_failure": {"name": "cleanup"}},
    "timed": {"name": "timed", "tasks": [{"name": "soon", "schedule_timeout": 60}]},
}
OUTCOMES = ["succeeded", "failed", "failed_for_good", "released"]


class Harness:
    """One event loop and two connections (owner, login role) for a whole test."""

    def __init__(self, database_url: str) -> None:
        self.loop = asyncio.new_event_loop()
        owner_url = urls.owner_url(database_url)
        self.owner: asyncpg.Connection = self.run(asyncpg.connect(urls.asyncpg_dsn(owner_url)))
        login = urls.authenticator_url(owner_url, AUTHENTICATOR_PASSWORD)
        self.login: asyncpg.Connection = self.run(asyncpg.connect(urls.asyncpg_dsn(login)))
        self.run(_init_connection(self.login))
        self.run(_init_connection(self.owner))
        self.run(invariants.install_transition_log(self.owner))
        self.cache = SpecCache()
        self.steps = 0
        self.checks = 0
        self.rules: collections.Counter[str] = collections.Counter()

    def run(self, coroutine: Awaitable[T]) -> T:
        return self.loop.run_until_complete(coroutine)

    def act(self, context: tenancy.TenantContext,
            call: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
        """One transaction as ``context`` on the login connection, as ``Database.raw`` does."""
        async def go() -> T:
            async with self.login.transaction():
                await self.login.execute(tenancy.SWITCH_SQL, *context.parameters())
                return await call(self.login)
        return self.run(go())

    def close(self) -> None:
        self.run(self.login.close())
        self.run(self.owner.close())
        self.loop.close()


class QueueMachine(RuleBasedStateMachine):
    harness: Harness  # set by the test

    runs = Bundle("runs")
    leases = Bundle("leases")  # (task_run_id, lease_id, worker_id); stale ones stay in

    @initialize()
    def new_tenant(self) -> None:
        h = self.harness
        self.tenant = uuid.uuid4()
        self.context = tenancy.TenantContext(self.tenant)
        h.run(h.owner.execute("INSERT INTO tenants (id, name) VALUES ($1, 'machine')",
                              self.tenant))
        actions = []
        for name, document in WORKFLOWS.items():
            definition = msgspec.convert(document, WorkflowDefinition)
            workflow_id, version_id = uuid.uuid4(), uuid.uuid4()
            h.run(h.owner.execute(
                "INSERT INTO workflows (tenant_id, id, name, latest_version) "
                "VALUES ($1, $2, $3, 1)", self.tenant, workflow_id, name))
            h.run(h.owner.execute(
                "INSERT INTO workflow_versions (tenant_id, id, workflow_id, version, checksum,"
                " definition) VALUES ($1, $2, $3, 1, $4, $5)", self.tenant, version_id,
                workflow_id, validation.checksum(definition), msgspec.to_builtins(definition)))
            spec = h.cache.add(version_id, definition)
            actions += [task.action for task in spec.tasks.values()]
        self.workers = [uuid.uuid4(), uuid.uuid4()]
        for worker in self.workers:
            h.run(h.owner.execute(
                "INSERT INTO workers (tenant_id, id, name, actions, slots, status) "
                "VALUES ($1, $2, 'machine', $3, 100, 'active')", self.tenant, worker, actions))
        self.actions = actions

    # --- helpers ------------------------------------------------------------------------------

    def task(self, task_run_id: uuid.UUID) -> dict[str, Any]:
        row = self.harness.run(self.harness.owner.fetchrow(
            "SELECT * FROM task_runs WHERE tenant_id = $1 AND id = $2", self.tenant, task_run_id))
        assert row is not None
        return dict(row)

    def current(self, lease: tuple[uuid.UUID, uuid.UUID, uuid.UUID]) -> bool:
        task = self.task(lease[0])
        return (task["status"] == "running" and task["lease_id"] == lease[1]
                and task["worker_id"] == lease[2])

    @staticmethod
    def budget_left(task: dict[str, Any]) -> bool:
        """Whether a failure now may be retried: lost and released attempts do not count."""
        spent = task["attempt"] - task["rescues"] - (task.get("releases") or 0)
        return bool(spent < task["max_attempts"])

    def time_travel(self, column: str, task_run_id: uuid.UUID) -> None:
        assert column in ("lease_expires_at", "deadline_at", "retry_at", "schedule_deadline_at")
        self.harness.run(self.harness.owner.execute(
            f"UPDATE task_runs SET {column} = now() - interval '1 second' "
            "WHERE tenant_id = $1 AND id = $2", self.tenant, task_run_id))

    # --- rules ------------------------------------------------------------------------------

    @rule(target=runs, workflow=st.sampled_from(sorted(WORKFLOWS)), count=st.integers(1, 3))
    def trigger_runs(self, workflow: str, count: int) -> Any:
        self.harness.rules["trigger_runs"] += 1
        requests = [trigger.RunRequest(input={"n": i}) for i in range(count)]
        made = self.harness.act(self.context, lambda c: trigger.trigger(
            self.harness.cache, c, self.tenant, workflow, requests))
        assert all(t.created for t in made)
        return multiple(*[t.run_id for t in made])

    @rule(target=leases, worker=st.integers(0, 1), limit=st.integers(1, 4))
    def claim_tasks(self, worker: int, limit: int) -> Any:
        self.harness.rules["claim_tasks"] += 1
        h, worker_id = self.harness, self.workers[worker]
        available = h.run(h.owner.fetchval(
            "SELECT count(*) FROM queue_items WHERE tenant_id = $1", self.tenant))
        claimed = h.act(self.context, lambda c: claim.claim(
            h.cache, c, self.tenant, worker_id, self.actions, limit, CONFIG.lease_seconds))
        assert len(claimed.tasks) == min(limit, available)
        assert len({t.lease_id for t in claimed.tasks}) == len(claimed.tasks)
        for assignment in claimed.tasks:
            task = self.task(assignment.task_run_id)
            assert (task["status"], task["worker_id"], task["lease_id"], task["attempt"]) == (
                "running", worker_id, assignment.lease_id, assignment.attempt)
        return multiple(*[(t.task_run_id, t.lease_id, worker_id) for t in claimed.tasks])

    @rule(held=st.lists(leases, max_size=4, unique=True), worker=st.integers(0, 1))
    def heartbeat(self, held: list[tuple[uuid.UUID, uuid.UUID, uuid.UUID]],
                  worker: int) -> None:
        self.harness.rules["heartbeat"] += 1
        h, worker_id = self.harness, self.workers[worker]
        pairs = [(t, lease) for t, lease, _ in held]
        expected_gone = {t for t, lease, _ in held if not self.current((t, lease, worker_id))}
        gone = h.act(self.context, lambda c: claim.extend_leases(
            c, self.tenant, worker_id, pairs, CONFIG.lease_seconds))
        assert gone == expected_gone

    @rule(batch=st.lists(st.tuples(leases, st.sampled_from(OUTCOMES)), min_size=1, max_size=3,
                         unique_by=lambda item: item[0][:2]),
          worker=st.integers(0, 1))
    def complete(self, batch: list[tuple[tuple[uuid.UUID, uuid.UUID, uuid.UUID], str]],
                 worker: int) -> None:
        """One results batch from one worker: fresh, stale and other workers' leases mixed."""
        self.harness.rules["complete"] += 1
        h, worker_id = self.harness, self.workers[worker]
        before = {t: self.task(t) for (t, _, _), _ in batch}
        fresh = {t: outcome for (t, lease, _), outcome in batch
                 if self.current((t, lease, worker_id))}
        sent = [results.Result(
            t, lease, "failed" if outcome == "failed_for_good" else outcome,
            output_json=json.dumps({"attempt": before[t]["attempt"]})
            if outcome == "succeeded" else None,
            error="boom" if outcome.startswith("failed") else None,
            retryable=outcome != "failed_for_good") for (t, lease, _), outcome in batch]
        accepted, rejected = h.act(self.context, lambda c: results.complete(
            h.cache, c, self.tenant, worker_id, sent))
        assert set(accepted) == set(fresh)
        assert set(rejected) == set(before) - set(fresh)
        for task_run_id, old in before.items():
            new = self.task(task_run_id)
            if task_run_id not in fresh:
                assert new == old, "a fenced-out result changed the task"
                continue
            outcome = fresh[task_run_id]
            expected = {"succeeded": "succeeded", "released": "queued",
                        "failed": "pending" if self.budget_left(old) else "failed",
                        "failed_for_good": "failed"}[outcome]
            assert new["status"] == expected
            assert new["attempt"] == old["attempt"]


    @rule(lease=leases)
    def lease_expires(self, lease: tuple[uuid.UUID, uuid.UUID, uuid.UUID]) -> None:
        self.harness.rules["lease_expires"] += 1
        h = self.harness
        if not self.current(lease):
            return
        before = self.task(lease[0])
        self.time_travel("lease_expires_at", lease[0])
        h.act(tenancy.ENGINE, lambda c: sweeps.expire_leases(h.cache, c, CONFIG))
        after = self.task(lease[0])
        assert after["rescues"] == before["rescues"] + 1
        assert after["status"] == ("failed" if after["rescues"] > MAX_RESCUES else "queued")

    @rule(lease=leases)
    def deadline_passes(self, lease: tuple[uuid.UUID, uuid.UUID, uuid.UUID]) -> None:
        self.harness.rules["deadline_passes"] += 1
        h = self.harness
        if not self.current(lease):
            return
        before = self.task(lease[0])
        self.time_travel("deadline_at", lease[0])
        h.act(tenancy.ENGINE, lambda c: sweeps.expire_deadlines(h.cache, c, CONFIG))
        after = self.task(lease[0])
        assert after["status"] == ("pending" if self.budget_left(before) else "failed")

    @rule()
    def retries_come_due(self) -> None:
        self.harness.rules["retries_come_due"] += 1
        h = self.harness
        waiting = [r["id"] for r in h.run(h.owner.fetch(
            "SELECT id FROM task_runs WHERE tenant_id = $1 AND status = 'pending' "
            "AND retry_at IS NOT NULL", self.tenant))]
        for task_run_id in waiting:
            self.time_travel("retry_at", task_run_id)
        h.act(tenancy.ENGINE, lambda c: sweeps.queue_due_retries(c, CONFIG))
        for task_run_id in waiting:
            assert self.task(task_run_id)["status"] == "queued"

    @rule(run_id=runs)
    def cancel(self, run_id: uuid.UUID) -> None:
        self.harness.rules["cancel"] += 1
        h = self.harness
        h.act(self.context, lambda c: control.cancel(h.cache, c, self.tenant, [run_id]))
        statuses = {r["status"] for r in h.run(h.owner.fetch(
            "SELECT status FROM task_runs WHERE tenant_id = $1 AND run_id = $2",
            self.tenant, run_id))}
        assert statuses <= invariants.TERMINAL, f"cancel left {statuses}"
        run = h.run(h.owner.fetchval(
            "SELECT status FROM workflow_runs WHERE tenant_id = $1 AND id = $2",
            self.tenant, run_id))
        assert run in invariants.TERMINAL

    @rule(run_id=runs)
    def replay(self, run_id: uuid.UUID) -> None:
        self.harness.rules["replay"] += 1
        h = self.harness
        status = h.run(h.owner.fetchval(
            "SELECT status FROM workflow_runs WHERE tenant_id = $1 AND id = $2",
            self.tenant, run_id))
        try:
            h.act(self.context, lambda c: control.replay(h.cache, c, self.tenant, run_id, None))
        except Conflict:
            assert status not in invariants.TERMINAL
            return
        except NotFound:  # pragma: no cover — runs of this bundle exist
            raise
        assert status in invariants.TERMINAL
        after = h.run(h.owner.fetchval(
            "SELECT status FROM workflow_runs WHERE tenant_id = $1 AND id = $2",
            self.tenant, run_id))
        assert after == "queued"

    # --- after every step --------------------------------------------------------------------

    @invariant()
    def invariants_hold(self) -> None:
        h = self.harness
        if not hasattr(self, "tenant"):
            return
        report = h.run(invariants.check(h.owner, max_rescues=MAX_RESCUES, quiescent=False,
                                        tenant_id=self.tenant))
        h.steps += 1
        h.checks += report.total
        report.assert_ok()


class QueueMachineWithScheduleTimeouts(QueueMachine):
    """The same, plus schedule timeouts: queued tasks no worker started in time fail."""

    @rule()
    def schedule_timeout_passes(self) -> None:
        self.harness.rules["schedule_timeout_passes"] += 1
        h = self.harness
        waiting = [r["id"] for r in h.run(h.owner.fetch(
            "SELECT id FROM task_runs WHERE tenant_id = $1 AND status = 'queued' "
            "AND schedule_deadline_at IS NOT NULL", self.tenant))]
        for task_run_id in waiting:
            self.time_travel("schedule_deadline_at", task_run_id)
        h.act(tenancy.ENGINE, lambda c: sweeps.expire_schedules(h.cache, c, CONFIG))
        for task_run_id in waiting:
            assert self.task(task_run_id)["status"] == "failed"


def drive(machine: type[QueueMachine], database_url: str) -> Harness:
    harness = Harness(database_url)
    machine.harness = harness
    try:
        run_state_machine_as_test(machine, settings=settings(
            max_examples=40, stateful_step_count=40, derandomize=True, deadline=None,
            database=None, suppress_health_check=list(HealthCheck)))
    finally:
        harness.close()
    log.info("%s: %d steps, %d invariant checks, rules %s", machine.__name__, harness.steps,
             harness.checks, dict(harness.rules))
    tally.TALLY["state-machine steps"] += harness.steps
    tally.TALLY["state-machine invariant checks"] += harness.checks
    return harness


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_the_queue_keeps_its_invariants(database_url: str) -> None:
    harness = drive(QueueMachine, database_url)
    assert harness.steps > 40 * 5, "the machine hardly ran"
    assert min(harness.rules.values()) >= 5, f"a rule hardly ran: {harness.rules}"




@pytest.mark.slow
@pytest.mark.timeout(300)
def test_the_queue_keeps_its_invariants_with_schedule_timeouts(database_url: str) -> None:
    drive(QueueMachineWithScheduleTimeouts, database_url)


def test_a_schedule_timeout_leaves_no_queue_row_behind(database_url: str) -> None:
    machine = QueueMachine()
    machine.harness = harness = Harness(database_url)
    try:
        machine.new_tenant()
        (expired,) = machine.trigger_runs("timed", 1).values
        (task_run_id,) = [r["id"] for r in harness.run(harness.owner.fetch(
            "SELECT id FROM task_runs WHERE run_id = $1", expired))]
        machine.time_travel("schedule_deadline_at", task_run_id)
        harness.act(tenancy.ENGINE, lambda c: sweeps.expire_schedules(harness.cache, c, CONFIG))
        assert machine.task(task_run_id)["status"] == "failed"
        machine.trigger_runs("timed", 1)  # a task a worker could run right now
        claimed = harness.act(machine.context, lambda c: claim.claim(
            harness.cache, c, machine.tenant, machine.workers[0], machine.actions, 1,
            CONFIG.lease_seconds))
        assert len(claimed.tasks) == 1, "a poll for one task came back empty"
    finally:
        harness.close()

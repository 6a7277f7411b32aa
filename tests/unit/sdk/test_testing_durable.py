"""kiln.testing for durable tasks (a simulated server: waits suspend, the task replays its log)
and for DAG conditions (skipped tasks in run_workflow)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from kiln import Context, DurableContext, Kiln, NonDeterminismError, testing


def approval_task(calls: list[str]) -> Any:
    kiln = Kiln(api_url="http://127.0.0.1:1")

    @kiln.durable_task(name="approval")
    async def approval(input: dict[str, Any], ctx: DurableContext) -> dict[str, Any]:
        await ctx.step("request", calls.append, f"request {input['order']}")
        await ctx.sleep_for("1h")
        event = await ctx.wait_for_event("approved", scope=input["order"], timeout="24h")
        if event is None:
            return {"status": "expired"}
        return {"status": "approved", "by": event["payload"]["by"]}

    return approval


def test_a_durable_task_replays_its_log_so_steps_run_once():
    calls: list[str] = []
    sim = testing.DurableSimulation(events=[
        testing.event("approved", {"by": "bob"}, scope="o-2"),   # another scope: not used
        testing.event("approved", {"by": "ann"}, scope="o-1")])
    output = testing.run_durable_task(approval_task(calls), {"order": "o-1"}, simulation=sim)
    assert output == {"status": "approved", "by": "ann"}
    assert calls == ["request o-1"]  # the body ran three times, the step once
    assert sim.attempts == 3
    assert sim.slept == dt.timedelta(hours=1)
    assert [(e["seq"], e["kind"], e["name"]) for e in sim.log] == [
        (1, "step", "request"), (2, "sleep", "sleep"), (3, "wait", "event:approved")]
    assert [e["payload"] for e in sim.events] == [{"by": "bob"}]


def test_a_wait_without_its_event_times_out_on_the_simulated_clock():
    sim = testing.DurableSimulation()
    output = testing.run_durable_task(approval_task([]), {"order": "o-1"}, simulation=sim)
    assert output == {"status": "expired"}
    assert sim.slept == dt.timedelta(hours=25)


def test_a_wait_nothing_can_meet_fails_loudly():
    kiln = Kiln(api_url="http://127.0.0.1:1")

    @kiln.durable_task(name="forever")
    async def forever(input: Any, ctx: DurableContext) -> None:
        await ctx.wait_for_event("never")

    with pytest.raises(testing.WaitWouldBlock, match="'event:never' at call #1"):
        testing.run_durable_task(forever)


def test_code_that_changes_between_attempts_is_non_deterministic():
    kiln = Kiln(api_url="http://127.0.0.1:1")
    names = iter(["first", "second"])

    @kiln.durable_task(name="drift")
    async def drift(input: Any, ctx: DurableContext) -> None:
        await ctx.step(next(names), lambda: 1)  # a name that depends on something outside
        await ctx.sleep_for("1s")

    with pytest.raises(NonDeterminismError, match=r"'second'.*'first'"):
        testing.run_durable_task(drift)


def test_run_workflow_skips_the_named_tasks_and_children_see_it():
    wf = Kiln(api_url="http://127.0.0.1:1").workflow("wf")

    @wf.task()
    def a(input: Any, ctx: Context) -> int:
        return 1

    @wf.task(parents=[a])
    def b(input: Any, ctx: Context) -> int:
        return 2

    @wf.task(parents=[b])
    def c(input: Any, ctx: Context) -> dict[str, Any]:
        return {"b_skipped": ctx.was_skipped(b), "b": ctx.task_output(b)}

    assert testing.run_workflow(wf, skipped=[b]) == {"c": {"b_skipped": True, "b": None}}
    assert testing.run_workflow(wf) == {"c": {"b_skipped": False, "b": 2}}

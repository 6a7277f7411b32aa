"""DAG conditions in the SDK: the condition classes, the task options that carry them into the
definition, client-side checks, and how a child sees a skipped parent."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from kiln import (
    Context,
    EventCondition,
    Kiln,
    ParentCondition,
    SleepCondition,
    UserEventCondition,
    or_,
)


def workflow() -> Any:
    return Kiln(api_url="http://127.0.0.1:1").workflow("wf")


def test_conditions_land_in_the_task_definition():
    wf = workflow()

    @wf.task()
    def check(input: dict[str, Any], ctx: Context) -> dict[str, Any]:
        return {}

    @wf.task(parents=[check],
             wait_for=[or_(UserEventCondition("approved", "payload.ok", scope="input.order"),
                           SleepCondition(dt.timedelta(hours=24)))],
             skip_if=[ParentCondition(check, "output.cached")],
             cancel_if=[EventCondition("abort")])
    def publish(input: dict[str, Any], ctx: Context) -> None: ...

    spec = next(t for t in wf.definition()["tasks"] if t["name"] == "publish")
    assert spec["wait_for"] == [{"any_of": [
        {"event": "approved", "filter": "payload.ok", "scope": "input.order"},
        {"sleep_for": 86400.0}]}]
    assert spec["skip_if"] == [{"parent": "check", "expression": "output.cached"}]
    assert spec["cancel_if"] == [{"event": "abort"}]
    assert "wait_for" not in next(t for t in wf.definition()["tasks"] if t["name"] == "check")


def test_a_parent_condition_must_name_a_parent():
    wf = workflow()

    @wf.task()
    def a(input: Any, ctx: Context) -> None: ...

    with pytest.raises(ValueError, match="ParentCondition names 'a', which is not a parent"):
        wf.task(name="b", skip_if=[ParentCondition(a, "true")])(lambda input, ctx: None)


@pytest.mark.parametrize(("entry", "error"), [
    (or_(or_(SleepCondition(1))), "cannot be nested"),
    ("not a condition", "expected a SleepCondition"),
    (SleepCondition(-5), "sleep condition: .*negative"),
    (SleepCondition("400d"), "0 to 365 days"),
])
def test_bad_entries_are_refused_before_registration(entry, error):
    with pytest.raises((TypeError, ValueError), match=error):
        workflow().task(name="b", wait_for=[entry])(lambda input, ctx: None)


def test_a_skipped_parent_has_no_output_and_says_so():
    ctx = Context(run_id="r", task_run_id="t", attempt=1, workflow_name="wf", task_name="c",
                  parents={"a": {"n": 1}, "b": None}, skipped_parents=["b"])
    assert ctx.was_skipped("b") is True
    assert ctx.was_skipped("a") is False
    assert ctx.task_output("b") is None
    assert ctx.task_output("a") == {"n": 1}
    with pytest.raises(ValueError, match="not a parent"):
        ctx.was_skipped("x")


def test_a_skipped_standalone_task_returns_none():
    kiln = Kiln(api_url="http://127.0.0.1:1")

    @kiln.task(name="solo", skip_if=[SleepCondition(0)])
    def solo(input: Any, ctx: Context) -> dict[str, Any]:
        return {}

    run = {"id": "r", "status": "succeeded", "output": {},
           "tasks": [{"name": "solo", "status": "skipped"}]}
    assert solo._extract_result(run) is None

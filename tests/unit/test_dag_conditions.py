"""The pure rules of DAG conditions (app/engine/durable/dag_conditions.py): opening a ready
task's conditions and deciding them — which list wins, or-groups, parents decided at once."""

from __future__ import annotations

import datetime as dt

import msgspec
import pytest

from app.domain.workflows.schemas import TaskDefinition
from app.engine.durable import dag_conditions as dc

NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def opened(parents: dict[str, dc.ParentState] | None = None, **gates: object):  # type: ignore[no-untyped-def]
    task = msgspec.convert({"name": "t", "parents": ["p"], **gates}, TaskDefinition)
    conditions = dc.compile_task(task)
    assert conditions is not None
    return dc.open_leaves(conditions, NOW, {"order": "o-1"}, {},
                          parents or {"p": dc.ParentState("succeeded", {"n": 5})})


def test_a_task_without_conditions_compiles_to_none():
    assert dc.compile_task(TaskDefinition(name="t")) is None


def test_when_lists_are_met_at_the_same_moment_cancel_beats_skip_beats_wait():
    leaves, matched = opened(wait_for=[{"sleep_for": 10}], skip_if=[{"sleep_for": 10}],
                             cancel_if=[{"sleep_for": 10}])
    later = NOW + dt.timedelta(seconds=10)
    assert dc.decide(leaves, matched, later).status == "cancelled"
    leaves, matched = opened(wait_for=[{"sleep_for": 10}], skip_if=[{"sleep_for": 10}])
    assert dc.decide(leaves, matched, later).status == "skipped"


def test_the_first_list_met_wins_and_the_next_timer_is_the_earliest_open_one():
    leaves, matched = opened(wait_for=[{"sleep_for": 5}], skip_if=[{"sleep_for": 60}])
    waiting = dc.decide(leaves, matched, NOW)
    assert waiting.status is None
    assert waiting.wake_at == NOW + dt.timedelta(seconds=5)
    assert dc.decide(leaves, matched, NOW + dt.timedelta(seconds=5)).status == "queued"


def test_parent_conditions_are_decided_at_readiness_and_or_groups_need_one_member():
    leaves, matched = opened(wait_for=[{"any_of": [
        {"parent": "p", "expression": "output.n > 10"}, {"event": "go", "scope": "input.order"}]}])
    verdict = dc.decide(leaves, matched, NOW)
    assert verdict.status is None
    assert verdict.event_keys == ["go"]
    assert dc.describe(leaves, verdict.matched) == (
        "conditions: wait_for event 'go' (scope 'o-1')")
    leaves, matched = opened(wait_for=[{"any_of": [
        {"parent": "p", "expression": "output.n > 1"}, {"event": "go"}]}])
    assert dc.decide(leaves, matched, NOW).status == "queued"


def test_a_wait_for_that_can_never_be_met_skips_and_a_skipped_parent_never_meets():
    leaves, matched = opened(wait_for=[{"parent": "p", "expression": "output.n > 10"}])
    assert dc.decide(leaves, matched, NOW).status == "skipped"
    leaves, matched = opened({"p": dc.ParentState("skipped", None)},
                             skip_if=[{"parent": "p", "expression": "true"}])
    assert dc.decide(leaves, matched, NOW).status == "queued"


def test_an_expression_that_fails_for_this_run_is_a_condition_error():
    with pytest.raises(dc.ConditionError, match=r"skip_if\[0\]: parent condition"):
        opened(skip_if=[{"parent": "p", "expression": "output.missing > 1"}])
    with pytest.raises(dc.ConditionError, match="not true or false"):
        opened(skip_if=[{"parent": "p", "expression": "output.n"}])
    with pytest.raises(dc.ConditionError, match="scope"):
        opened(wait_for=[{"event": "go", "scope": "input.order.size()"}])

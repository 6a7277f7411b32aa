"""Flow data of a run, evaluated once at trigger time and stored on its task rows (``flow``).

The stored shape (short keys: it is copied into every queue row of a flow-controlled task)::

    {"gr": "<run-level round-robin key>", "gt": "<task-level round-robin key>",
     "c": [{"k": "<key>", "v": "<value>", "m": <max_runs>, "s": "<strategy>", "o": "run|task"}],
     "r": [{"k": "<rate-limit key>", "u": <units>, "l": <limit or null>, "w": <seconds or null>}]}

A task waits in the round-robin group ``gr`` while its run has not started (the run competes for
a slot); once the run holds its slot, re-queued tasks (children, retries) use ``gt`` or no group,
so they never queue behind runs still waiting for that slot (see the ``enqueue`` query).

Concurrency keys are namespaced (``etl#0=alice``: workflow, limit index, value), so two limits
never share a key by accident; rate-limit keys are the tenant's own names, shared on purpose.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.engine.flow import expressions
from app.engine.flow.spec import ROUND_ROBIN, ConcurrencyRule, FlowSpec, RateRule


def _concurrency(rule: ConcurrencyRule, input: Any, metadata: Mapping[str, Any]) -> dict[str, Any]:
    value = ""
    if rule.program is not None and rule.source is not None:
        what = (f"concurrency expression of workflow {rule.namespace!r}" if rule.scope == "run"
                else f"concurrency expression of task {rule.namespace!r}")
        value = expressions.as_key(
            expressions.evaluate(rule.program, rule.source, what, input, metadata),
            rule.source, what)
    return {"k": rule.key(value), "v": value, "m": rule.max_runs, "s": rule.strategy,
            "o": rule.scope}


def _rate(rule: RateRule, task: str, input: Any, metadata: Mapping[str, Any]) -> dict[str, Any]:
    key = rule.key
    if rule.dynamic is not None and rule.dynamic_source is not None:
        what = f"dynamic_key of task {task!r}"
        key = expressions.as_key(
            expressions.evaluate(rule.dynamic, rule.dynamic_source, what, input, metadata),
            rule.dynamic_source, what)
    units = rule.units
    if rule.units_program is not None and rule.units_source is not None:
        what = f"rate-limit units of task {task!r}"
        units = expressions.as_units(
            expressions.evaluate(rule.units_program, rule.units_source, what, input, metadata),
            rule.units_source, what)
    return {"k": key, "u": units, "l": rule.limit, "w": rule.window}


def evaluate(
    flow: FlowSpec, tasks: list[str], input: Any, metadata: Mapping[str, Any]
) -> dict[str, dict[str, Any]]:
    """The ``flow`` value of each flow-controlled task of one run (by task name); raises
    :class:`app.core.errors.Invalid` when an expression fails or gives a non-string key."""
    run_level = [_concurrency(rule, input, metadata) for rule in flow.run_concurrency]
    run_group = next((c["k"] for c in run_level if c["s"] == ROUND_ROBIN), None)
    out: dict[str, dict[str, Any]] = {}
    for name in tasks:
        if not flow.controlled(name):
            continue
        task_level = [_concurrency(rule, input, metadata) for rule in flow.task(name).concurrency]
        value: dict[str, Any] = {
            "c": run_level + task_level,
            "r": [_rate(rule, name, input, metadata) for rule in flow.task(name).rate_limits],
        }
        if run_group is not None:
            value["gr"] = run_group
        if task_level:
            value["gt"] = task_level[0]["k"]  # task-level limits are all round-robin
        out[name] = value
    return out


def first_group(flow: Mapping[str, Any]) -> str:
    """The round-robin group of a task of a run that has not started yet."""
    return str(flow.get("gr") or flow.get("gt") or "")

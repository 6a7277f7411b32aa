"""The pure rules of DAG conditions (docs/durable.md, "Conditions in DAGs"): checking a task's
``wait_for``/``skip_if``/``cancel_if`` at registration, opening them when the task becomes ready,
and deciding what the task does.

Each gate is a list of entries, all of which must be met (AND); an entry is one condition or an
or-group (``any_of``) met by any member. When a task becomes ready its conditions are flattened
into *leaves*, each tagged with its gate and entry index:

- ``{"sleep_until": ts}`` — the sleep, fixed from the moment of readiness;
- ``{"event": key, "filter"?: CEL, "scope"?: str}`` — the scope already evaluated for this run;
- ``{"parent": name}`` — decided at once: ``matched`` is ``{"parent": name}`` or ``False``.

``matched`` holds one entry per leaf: ``None`` while open, a dict once met, ``False`` when it can
never be met. The gates are decided in the order cancel_if, skip_if, wait_for: when several are
met at the same moment, cancelling wins over skipping, and skipping over running.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from app.core.errors import Invalid
from app.domain.events import matching
from app.domain.workflows.schemas import Condition, TaskDefinition
from app.engine.flow import expressions

GATES = ("cancel_if", "skip_if", "wait_for")
"""In the order they are decided."""
ACTIONS = {"cancel_if": "cancelled", "skip_if": "skipped", "wait_for": "queued"}
PARENT_VARIABLES = frozenset({"output", "input", "metadata"})


@dataclass(frozen=True, slots=True)
class TaskConditions:
    """A task's gates, each a tuple of entries, each entry a tuple of members (one, or an
    or-group's)."""

    wait_for: tuple[tuple[Condition, ...], ...] = ()
    skip_if: tuple[tuple[Condition, ...], ...] = ()
    cancel_if: tuple[tuple[Condition, ...], ...] = ()

    def gate(self, name: str) -> tuple[tuple[Condition, ...], ...]:
        entries: tuple[tuple[Condition, ...], ...] = getattr(self, name)
        return entries


def event_keys(conditions: TaskConditions) -> set[str]:
    """The event keys any of a task's conditions waits for."""
    return {member.event
            for gate in (conditions.wait_for, conditions.skip_if, conditions.cancel_if)
            for entry in gate for member in entry if member.event is not None}


def compile_task(task: TaskDefinition) -> TaskConditions | None:
    """A task's conditions for the engine; None for a task without any (the fast path)."""
    if not task.conditioned:
        return None

    def entries(items: list[Condition]) -> tuple[tuple[Condition, ...], ...]:
        return tuple(tuple(c.any_of) if c.any_of is not None else (c,) for c in items)

    return TaskConditions(entries(task.wait_for), entries(task.skip_if), entries(task.cancel_if))


# --- registration --------------------------------------------------------------------------------


def check(task: TaskDefinition, *, hook: bool = False) -> None:
    """Raise :class:`Invalid` naming the task, gate and entry of the first bad condition."""
    if not task.conditioned:
        return
    if hook:
        raise Invalid(f"on-failure/on-success task {task.name!r} cannot have conditions")
    for gate in GATES:
        for index, item in enumerate(getattr(task, gate)):
            where = f"task {task.name!r} {gate}[{index}]"
            if item.any_of is not None:
                if _kinds(item) or item.filter or item.scope or item.expression:
                    raise Invalid(f"{where}: an or-group has only `any_of`")
                for member_index, member in enumerate(item.any_of):
                    _check_one(task, member, f"{where}.any_of[{member_index}]")
            else:
                _check_one(task, item, where)


def _kinds(condition: Condition) -> list[str]:
    return [kind for kind in ("sleep_for", "event", "parent")
            if getattr(condition, kind) is not None]


def _check_one(task: TaskDefinition, condition: Condition, where: str) -> None:
    kinds = _kinds(condition)
    if condition.any_of is not None:
        raise Invalid(f"{where}: or-groups cannot be nested")
    if len(kinds) != 1:
        raise Invalid(f"{where}: a condition is exactly one of sleep_for, event or parent")
    if kinds[0] != "event" and (condition.filter is not None or condition.scope is not None):
        raise Invalid(f"{where}: filter and scope belong to event conditions")
    if kinds[0] != "parent" and condition.expression is not None:
        raise Invalid(f"{where}: expression belongs to parent conditions")
    if condition.event is not None:
        matching.check_key(condition.event)
        if condition.filter is not None:
            matching.compile_expression(condition.filter, f"{where} filter")
        if condition.scope is not None:
            expressions.compile_expression(condition.scope, f"{where} scope")
    if condition.parent is not None:
        if condition.parent not in task.parents:
            raise Invalid(f"{where}: parent condition names {condition.parent!r}, which is not a "
                          f"parent of {task.name!r} (add it to the task's parents)")
        if condition.expression is None:
            raise Invalid(f"{where}: a parent condition needs an expression (CEL over `output`)")
        expressions.compile_expression(condition.expression, f"{where} expression",
                                       PARENT_VARIABLES)


# --- readiness -----------------------------------------------------------------------------------


class ConditionError(Exception):
    """A condition could not be evaluated for this run (the task fails with this message)."""


@dataclass(frozen=True, slots=True)
class ParentState:
    status: str  # succeeded | skipped
    output: Any


def open_leaves(
    conditions: TaskConditions, now: dt.datetime, input: Any, metadata: Mapping[str, Any],
    parents: Mapping[str, ParentState],
) -> tuple[list[dict[str, Any]], list[Any]]:
    """Flatten a ready task's conditions into (leaves, matched): sleeps fixed from ``now``,
    scopes evaluated, parent conditions decided. Raises :class:`ConditionError`."""
    leaves: list[dict[str, Any]] = []
    matched: list[Any] = []
    for gate in GATES:
        for entry_index, entry in enumerate(conditions.gate(gate)):
            for condition in entry:
                where = f"{gate}[{entry_index}]"
                leaf, met = _open_one(condition, where, now, input, metadata, parents)
                leaves.append({"gate": gate, "entry": entry_index, **leaf})
                matched.append(met)
    return leaves, matched


def _open_one(
    condition: Condition, where: str, now: dt.datetime, input: Any, metadata: Mapping[str, Any],
    parents: Mapping[str, ParentState],
) -> tuple[dict[str, Any], Any]:
    if condition.sleep_for is not None:
        return {"sleep_until": _iso(now + dt.timedelta(seconds=condition.sleep_for))}, None
    if condition.event is not None:
        leaf: dict[str, Any] = {"event": condition.event}
        if condition.filter is not None:
            leaf["filter"] = condition.filter
        if condition.scope is not None:
            leaf["scope"] = _scope(condition.scope, where, input, metadata)
        return leaf, None
    assert condition.parent is not None
    assert condition.expression is not None
    parent = parents.get(condition.parent)
    if parent is None or parent.status != "succeeded":
        return {"parent": condition.parent, "skipped": True}, False  # a skipped parent: not met
    program = expressions.compile_expression(condition.expression, f"{where} expression",
                                             PARENT_VARIABLES)
    try:
        result = program.execute({"output": parent.output, "input": input,
                                  "metadata": dict(metadata)})
    except Exception as exc:  # a user's expression can fail in many ways (missing key, types …)
        raise ConditionError(f"{where}: parent condition {condition.expression!r} on "
                             f"{condition.parent!r} failed: {type(exc).__name__}: {exc}") from None
    if not isinstance(result, bool):
        raise ConditionError(f"{where}: parent condition {condition.expression!r} on "
                             f"{condition.parent!r} gave {result!r}, not true or false")
    return {"parent": condition.parent}, ({"parent": condition.parent} if result else False)


def _scope(source: str, where: str, input: Any, metadata: Mapping[str, Any]) -> str:
    program = expressions.compile_expression(source, f"{where} scope")
    try:
        value = expressions.evaluate(program, source, f"{where} scope", input, metadata)
        return expressions.as_key(value, source, f"{where} scope")
    except Invalid as exc:
        raise ConditionError(str(exc)) from None


# --- deciding ------------------------------------------------------------------------------------


@dataclass(slots=True)
class Verdict:
    status: str | None
    """``cancelled``, ``skipped`` or ``queued`` once decided; None while the task waits."""
    why: str
    matched: list[Any]
    wake_at: dt.datetime | None
    event_keys: list[str]


def decide(leaves: Sequence[Mapping[str, Any]], matched: Sequence[Any],
           now: dt.datetime) -> Verdict:
    """Meet the sleeps due at ``now`` and decide: the first gate (in :data:`GATES` order) whose
    entries are all met wins; a wait_for that can never be met skips the task."""
    matched = list(matched)
    for index, leaf in enumerate(leaves):
        if "sleep_until" in leaf and matched[index] is None \
                and dt.datetime.fromisoformat(leaf["sleep_until"]) <= now:
            matched[index] = {"slept_until": leaf["sleep_until"]}
    state = {gate: _gate_state(leaves, matched, gate) for gate in GATES}
    for gate in GATES:
        if state[gate] == "met":
            return Verdict(ACTIONS[gate], f"{gate} met", matched, None, [])
    if state["wait_for"] == "never":
        return Verdict("skipped", "wait_for can never be met", matched, None, [])
    live = [(leaf, met) for leaf, met in zip(leaves, matched, strict=True)
            if met is None and state[leaf["gate"]] == "open"]
    timers = [dt.datetime.fromisoformat(leaf["sleep_until"]) for leaf, _ in live
              if "sleep_until" in leaf]
    return Verdict(None, "", matched, min(timers) if timers else None,
                   sorted({leaf["event"] for leaf, _ in live if "event" in leaf}))


def _gate_state(leaves: Sequence[Mapping[str, Any]], matched: Sequence[Any], gate: str) -> str:
    """``met``, ``open`` or ``never`` (an entry all of whose members can never be met); a gate
    without entries is ``met`` for wait_for and ``never`` for the others."""
    entries: dict[int, list[Any]] = {}
    for leaf, met in zip(leaves, matched, strict=True):
        if leaf["gate"] == gate:
            entries.setdefault(leaf["entry"], []).append(met)
    if not entries:
        return "met" if gate == "wait_for" else "never"
    states = ["met" if any(m for m in members) else
              "never" if all(m is False for m in members) else "open"
              for members in entries.values()]
    if "never" in states:
        return "never"
    return "met" if all(s == "met" for s in states) else "open"


def describe(leaves: Sequence[Mapping[str, Any]], matched: Sequence[Any]) -> str:
    """The ``waiting_for`` text of a task waiting on its conditions: the open entries per gate,
    e.g. ``conditions: wait_for event 'approved' (scope 'o-7') or sleep until …``."""
    parts = []
    for gate in GATES:
        entries: dict[int, list[str]] = {}
        for leaf, met in zip(leaves, matched, strict=True):
            if leaf["gate"] == gate and met is None:
                entries.setdefault(leaf["entry"], []).append(_leaf_text(leaf))
        if entries:
            parts.append(f"{gate} " + " and ".join(
                " or ".join(texts) if len(texts) == 1 else "(" + " or ".join(texts) + ")"
                for texts in entries.values()))
    return "conditions: " + "; ".join(parts)


def _leaf_text(leaf: Mapping[str, Any]) -> str:
    if "sleep_until" in leaf:
        return f"sleep until {leaf['sleep_until']}"
    text = f"event {leaf['event']!r}"
    if "scope" in leaf:
        text += f" (scope {leaf['scope']!r})"
    if "filter" in leaf:
        text += f" where {leaf['filter']}"
    return text


def _iso(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).isoformat()

"""Conditions on DAG tasks: when a task may start (``wait_for``), when it is skipped
(``skip_if``) and when it is cancelled (``cancel_if``) — docs/durable.md, "Conditions in DAGs".

    @wf.task(parents=[check], skip_if=[ParentCondition(check, "output.cached")],
             wait_for=[or_(UserEventCondition("approved", scope="input.order_id"),
                           SleepCondition("24h"))])
    def publish(input, ctx): ...

Each list is met when every entry is; ``or_(...)`` is an entry met by any of its members. The
server decides when the task becomes ready (all parents finished), and again whenever an event
or a timer meets a condition: ``cancel_if`` first, then ``skip_if``, then ``wait_for``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kiln import durations

if TYPE_CHECKING:
    from kiln.workflow import Task

TASK_OPTIONS = ("wait_for", "skip_if", "cancel_if")
_YEAR = 365 * 86400.0
MAX_ENTRIES = 20


@dataclass(frozen=True)
class SleepCondition:
    """Met ``duration`` after the task became ready (``"10m"``, a timedelta or seconds)."""

    duration: durations.Duration

    def to_json(self, where: str) -> dict[str, Any]:
        try:
            seconds = durations.parse(self.duration)
        except (TypeError, ValueError) as exc:
            raise type(exc)(f"{where}: sleep condition: {exc}") from None
        if not 0 <= seconds <= _YEAR:
            raise ValueError(f"{where}: a sleep condition is 0 to 365 days, got {self.duration!r}")
        return {"sleep_for": seconds}


@dataclass(frozen=True)
class UserEventCondition:
    """Met by an event ``event_key`` pushed after the task became ready, in the same tenant.

    ``expression`` is a CEL filter over the event's ``payload``, ``metadata`` and ``key``;
    ``scope`` a CEL expression over the run's ``input`` and ``metadata`` (e.g.
    ``"input.order_id"``) — then only events whose ``metadata["scope"]`` equals its value match.
    """

    event_key: str
    expression: str | None = None
    scope: str | None = None

    def to_json(self, where: str) -> dict[str, Any]:
        if not isinstance(self.event_key, str) or not self.event_key:
            raise ValueError(f"{where}: an event condition needs an event key")
        out: dict[str, Any] = {"event": self.event_key}
        if self.expression is not None:
            out["filter"] = self.expression
        if self.scope is not None:
            out["scope"] = self.scope
        return out


EventCondition = UserEventCondition


@dataclass(frozen=True)
class ParentCondition:
    """Met when ``expression`` — CEL over the parent's ``output`` and the run's ``input`` and
    ``metadata`` — is true when the task becomes ready. Never met for a skipped parent.
    ``parent`` (a task or its name) must be one of the task's parents."""

    parent: Task[Any, Any] | str
    expression: str

    @property
    def parent_name(self) -> str:
        return self.parent if isinstance(self.parent, str) else self.parent.name

    def to_json(self, where: str) -> dict[str, Any]:
        if not isinstance(self.expression, str) or not self.expression:
            raise ValueError(f"{where}: a parent condition needs a CEL expression")
        return {"parent": self.parent_name, "expression": self.expression}


Condition = SleepCondition | UserEventCondition | ParentCondition


@dataclass(frozen=True)
class OrGroup:
    """An entry met when any of its conditions is (build it with :func:`or_`)."""

    conditions: tuple[Condition, ...]

    def to_json(self, where: str) -> dict[str, Any]:
        return {"any_of": [_condition_json(c, f"{where}.any_of[{i}]")
                           for i, c in enumerate(self.conditions)]}


def or_(*conditions: Condition) -> OrGroup:
    """Group conditions so that any one of them meets the entry."""
    if not conditions:
        raise ValueError("or_() needs at least one condition")
    return OrGroup(tuple(conditions))


def _condition_json(condition: Any, where: str) -> dict[str, Any]:
    if isinstance(condition, OrGroup):
        raise TypeError(f"{where}: or_() groups cannot be nested")
    if not isinstance(condition, SleepCondition | UserEventCondition | ParentCondition):
        raise TypeError(f"{where}: expected a SleepCondition, UserEventCondition or "
                        f"ParentCondition, got {condition!r}")
    return condition.to_json(where)


def task_json(where: str, parents: Sequence[str], **gates: Iterable[Condition | OrGroup]
              ) -> dict[str, Any]:
    """The ``wait_for``/``skip_if``/``cancel_if`` fields of a task definition."""
    out: dict[str, Any] = {}
    for gate in TASK_OPTIONS:
        entries = list(gates.get(gate) or ())
        if not entries:
            continue
        if len(entries) > MAX_ENTRIES:
            raise ValueError(f"{where}: {gate} takes at most {MAX_ENTRIES} entries")
        items = []
        for index, entry in enumerate(entries):
            at = f"{where}: {gate}[{index}]"
            items.append(entry.to_json(at) if isinstance(entry, OrGroup)
                         else _condition_json(entry, at))
            members = entry.conditions if isinstance(entry, OrGroup) else (entry,)
            for member in members:
                if isinstance(member, ParentCondition) and member.parent_name not in parents:
                    raise ValueError(f"{at}: ParentCondition names {member.parent_name!r}, "
                                     "which is not a parent of this task (add it to parents)")
        out[gate] = items
    return out

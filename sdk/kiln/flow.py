"""Flow control options: concurrency limits, rate limits, desired worker labels, stickiness and
priority, as ``kiln.workflow(...)``, ``kiln.task(...)`` and ``@wf.task(...)`` take them.

The server enforces them when workers claim tasks (docs/flow-control.md); here they are only
checked (so a mistake fails at import, naming the task) and written into the definition.

    wf = kiln.workflow("sync", concurrency=Concurrency("input.customer", max_runs=2),
                       sticky=StickyStrategy.SOFT, default_priority=3)
    @wf.task(rate_limits=[RateLimit(key="crm-api")],
             desired_labels={"gpu": DesiredLabel("a100", required=True)})
    def fetch(input, ctx): ...
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

WINDOWS = ("second", "minute", "hour", "day")


class ConcurrencyStrategy(enum.StrEnum):
    """What happens to a run over its key's limit."""

    GROUP_ROUND_ROBIN = "GROUP_ROUND_ROBIN"
    """It waits; keys are served in turn."""
    CANCEL_IN_PROGRESS = "CANCEL_IN_PROGRESS"
    """The oldest unfinished run of the key is cancelled (workflow level only)."""
    CANCEL_NEWEST = "CANCEL_NEWEST"
    """The new run is cancelled at once (workflow level only)."""


class StickyStrategy(enum.StrEnum):
    """Keep a run's tasks on the worker that ran its first task."""

    NONE = "none"
    SOFT = "soft"
    """When possible: others take them only after a short delay or when that worker is gone."""
    HARD = "hard"
    """Always."""


@dataclass(frozen=True)
class Concurrency:
    """At most ``max_runs`` runs (tasks, at task level) per value of ``expression``, a CEL
    expression over ``input`` and ``metadata`` that gives a string (e.g. ``"input.customer"``)."""

    expression: str
    max_runs: int
    strategy: ConcurrencyStrategy | str = ConcurrencyStrategy.GROUP_ROUND_ROBIN

    def to_json(self, where: str) -> dict[str, Any]:
        if not isinstance(self.expression, str) or not self.expression.strip():
            raise ValueError(f"{where}: concurrency expression must be a non-empty CEL string")
        _positive(self.max_runs, f"{where}: concurrency max_runs")
        try:
            strategy = ConcurrencyStrategy(self.strategy)
        except ValueError:
            raise ValueError(f"{where}: concurrency strategy {self.strategy!r} is not one of "
                             f"{', '.join(s.value for s in ConcurrencyStrategy)}") from None
        return {"expression": self.expression, "max_runs": self.max_runs,
                "strategy": strategy.value}


@dataclass(frozen=True)
class RateLimit:
    """A task consumes ``units`` (an int, or a CEL expression giving one) of a rate limit: a
    static ``key`` (its limit set with ``PUT /api/v1/rate-limits/{key}``; ``limit``/``window``
    here are its default) or a ``dynamic_key`` expression (then ``limit`` and ``window`` are
    required). ``window`` is ``"second"``, ``"minute"``, ``"hour"`` or ``"day"``."""

    key: str | None = None
    dynamic_key: str | None = None
    units: int | str = 1
    limit: int | None = None
    window: str | None = None

    def to_json(self, where: str) -> dict[str, Any]:
        if (self.key is None) == (self.dynamic_key is None):
            raise ValueError(f"{where}: a RateLimit names exactly one of key or dynamic_key")
        if (self.limit is None) != (self.window is None):
            raise ValueError(f"{where}: RateLimit gives limit and window together, or neither")
        if self.dynamic_key is not None and self.limit is None:
            raise ValueError(f"{where}: a RateLimit with dynamic_key needs limit and window")
        if self.window is not None and self.window not in WINDOWS:
            raise ValueError(f"{where}: RateLimit window must be one of {', '.join(WINDOWS)}, "
                             f"got {self.window!r}")
        if isinstance(self.units, bool) or not isinstance(self.units, int | str) or (
                isinstance(self.units, int) and self.units < 0):
            raise ValueError(f"{where}: RateLimit units must be an int >= 0 or a CEL string")
        out: dict[str, Any] = {"units": self.units}
        if self.key is not None:
            out["key"] = self.key
        if self.dynamic_key is not None:
            out["dynamic_key"] = self.dynamic_key
        if self.limit is not None:
            out["limit"] = _positive(self.limit, f"{where}: RateLimit limit")
            out["window"] = self.window
        return out


@dataclass(frozen=True)
class DesiredLabel:
    """A worker label a task needs (``required``) or prefers (by ``weight``, 1 to 1000)."""

    value: str | int | float | bool
    required: bool = False
    weight: int = 100

    def to_json(self, where: str) -> dict[str, Any]:
        if not isinstance(self.value, str | int | float | bool):
            raise ValueError(f"{where}: a label value is a str, int, float or bool")
        if isinstance(self.weight, bool) or not isinstance(self.weight, int) \
                or not 1 <= self.weight <= 1000:
            raise ValueError(f"{where}: label weight must be an int from 1 to 1000")
        return {"value": self.value, "required": bool(self.required), "weight": self.weight}


def _positive(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{what} must be an int >= 1, got {value!r}")
    return value


def concurrency_json(
    value: int | Concurrency | Sequence[Concurrency] | None, where: str
) -> int | list[dict[str, Any]] | None:
    """An int (a plain cap), one ``Concurrency`` or a list of them."""
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return _positive(value, f"{where}: concurrency")
    limits = [value] if isinstance(value, Concurrency) else list(value)  # type: ignore[arg-type]
    if not limits or not all(isinstance(limit, Concurrency) for limit in limits):
        raise TypeError(f"{where}: concurrency is an int, a Concurrency or a list of them")
    return [limit.to_json(where) for limit in limits]


def task_json(
    where: str, *, concurrency: int | Concurrency | Sequence[Concurrency] | None = None,
    rate_limits: Sequence[RateLimit] = (),
    desired_labels: Mapping[str, DesiredLabel | str | int | float | bool] | None = None,
) -> dict[str, Any]:
    """The task-level flow fields of a definition (only those set)."""
    out: dict[str, Any] = {}
    limit = concurrency_json(concurrency, where)
    if limit is not None:
        out["concurrency"] = limit
    if rate_limits:
        if isinstance(rate_limits, RateLimit) or not all(
                isinstance(r, RateLimit) for r in rate_limits):
            raise TypeError(f"{where}: rate_limits is a list of RateLimit")
        out["rate_limits"] = [r.to_json(where) for r in rate_limits]
    if desired_labels:
        out["desired_labels"] = {
            str(name): (label if isinstance(label, DesiredLabel) else DesiredLabel(label))
            .to_json(f"{where}: label {name!r}") for name, label in desired_labels.items()}
    return out


def workflow_json(
    where: str, *, concurrency: int | Concurrency | Sequence[Concurrency] | None = None,
    default_priority: int | None = None, sticky: StickyStrategy | str | None = None,
) -> dict[str, Any]:
    """The workflow-level flow fields of a definition (only those set)."""
    out: dict[str, Any] = {}
    limit = concurrency_json(concurrency, where)
    if limit is not None:
        out["concurrency"] = limit
    if default_priority is not None:
        if isinstance(default_priority, bool) or default_priority not in (1, 2, 3):
            raise ValueError(f"{where}: default_priority is 1, 2 or 3, got {default_priority!r}")
        out["default_priority"] = default_priority
    if sticky is not None:
        try:
            mode = StickyStrategy(sticky)
        except ValueError:
            raise ValueError(f"{where}: sticky {sticky!r} is not one of none, soft, hard") \
                from None
        if mode is not StickyStrategy.NONE:
            out["sticky"] = mode.value
    return out


TASK_OPTIONS = ("concurrency", "rate_limits", "desired_labels")

"""A workflow version's flow rules, compiled once (at registration to validate it, then when the
version's spec is cached). Invalid rules raise :class:`app.core.errors.Invalid` naming them."""

from __future__ import annotations

from dataclasses import dataclass, field

import cel

from app.core.errors import Invalid
from app.domain.workflows.schemas import (
    ConcurrencyLimit,
    RateLimitUse,
    TaskDefinition,
    WorkflowDefinition,
)
from app.engine.flow.expressions import compile_expression

WINDOWS = {"second": 1.0, "minute": 60.0, "hour": 3600.0, "day": 86400.0}
ROUND_ROBIN = "GROUP_ROUND_ROBIN"
CANCEL_IN_PROGRESS = "CANCEL_IN_PROGRESS"
CANCEL_NEWEST = "CANCEL_NEWEST"


@dataclass(frozen=True, slots=True)
class ConcurrencyRule:
    """One limit. ``namespace`` is the workflow (run scope) or ``workflow/task`` (task scope);
    the stored key is ``{namespace}#{index}={value}`` so two limits never share keys by
    accident."""

    scope: str  # "run" | "task"
    namespace: str
    index: int
    max_runs: int
    strategy: str
    source: str | None = None  # None: a plain cap, one constant key
    program: cel.Program | None = None

    def key(self, value: str) -> str:
        return f"{self.namespace}#{self.index}={value}"


@dataclass(frozen=True, slots=True)
class RateRule:
    key: str | None
    dynamic_source: str | None
    dynamic: cel.Program | None
    units: int
    units_source: str | None
    units_program: cel.Program | None
    limit: int | None
    window: float | None


@dataclass(frozen=True, slots=True)
class LabelRule:
    name: str
    value: str | int | float | bool
    required: bool
    weight: int


@dataclass(frozen=True, slots=True)
class TaskFlow:
    concurrency: tuple[ConcurrencyRule, ...] = ()
    rate_limits: tuple[RateRule, ...] = ()
    labels: tuple[LabelRule, ...] = ()


@dataclass(frozen=True, slots=True)
class FlowSpec:
    run_concurrency: tuple[ConcurrencyRule, ...] = ()
    tasks: dict[str, TaskFlow] = field(default_factory=dict)
    sticky: str = "none"
    default_priority: int = 2

    def controlled(self, task: str) -> bool:
        """Whether ``task`` goes through the flow lane of the claim."""
        return bool(self.run_concurrency) or self.sticky != "none" or task in self.tasks

    @property
    def active(self) -> bool:
        return bool(self.run_concurrency or self.tasks) or self.sticky != "none"

    def task(self, name: str) -> TaskFlow:
        return self.tasks.get(name) or _NO_TASK_FLOW


_NO_TASK_FLOW = TaskFlow()


def _concurrency(
    value: int | list[ConcurrencyLimit] | None, scope: str, namespace: str, where: str
) -> tuple[ConcurrencyRule, ...]:
    if value is None:
        return ()
    if isinstance(value, int):
        return (ConcurrencyRule(scope, namespace, 0, value, ROUND_ROBIN),)
    rules = []
    for index, limit in enumerate(value):
        if scope == "task" and limit.strategy != ROUND_ROBIN:
            raise Invalid(f"{where}: strategy {limit.strategy} applies to workflow-level "
                          "concurrency only; a task-level limit queues (GROUP_ROUND_ROBIN)")
        what = f"concurrency expression of {where}"
        rules.append(ConcurrencyRule(scope, namespace, index, limit.max_runs, limit.strategy,
                                     limit.expression, compile_expression(limit.expression, what)))
    return tuple(rules)


def _rate_rule(use: RateLimitUse, where: str) -> RateRule:
    if (use.key is None) == (use.dynamic_key is None):
        raise Invalid(f"{where}: a rate limit names exactly one of key or dynamic_key")
    if (use.limit is None) != (use.window is None):
        raise Invalid(f"{where}: rate limit {use.key or use.dynamic_key!r} gives limit and "
                      "window together, or neither")
    if use.dynamic_key is not None and use.limit is None:
        raise Invalid(f"{where}: dynamic_key {use.dynamic_key!r} needs limit and window (a "
                      "dynamic key has no row to configure beforehand)")
    dynamic = (compile_expression(use.dynamic_key, f"dynamic_key of {where}")
               if use.dynamic_key is not None else None)
    units_source = use.units if isinstance(use.units, str) else None
    units_program = (compile_expression(units_source, f"rate-limit units of {where}")
                     if units_source is not None else None)
    return RateRule(
        key=use.key, dynamic_source=use.dynamic_key, dynamic=dynamic,
        units=use.units if isinstance(use.units, int) else 0, units_source=units_source,
        units_program=units_program, limit=use.limit,
        window=WINDOWS[use.window] if use.window is not None else None,
    )


def _task_flow(workflow: str, task: TaskDefinition) -> TaskFlow | None:
    where = f"task {workflow}:{task.name}"
    flow = TaskFlow(
        concurrency=_concurrency(task.concurrency, "task", f"{workflow}/{task.name}", where),
        rate_limits=tuple(_rate_rule(use, where) for use in task.rate_limits),
        labels=tuple(LabelRule(name, label.value, label.required, label.weight)
                     for name, label in sorted(task.desired_labels.items())),
    )
    return flow if flow.concurrency or flow.rate_limits or flow.labels else None


def compile_flow(definition: WorkflowDefinition) -> FlowSpec | None:
    """The flow rules of ``definition``, or None when it has none (the fast path)."""
    tasks: dict[str, TaskFlow] = {}
    hooks = [t for t in (definition.on_failure, definition.on_success) if t is not None]
    for task in [*definition.tasks, *hooks]:
        compiled = _task_flow(definition.name, task)
        if compiled is not None:
            tasks[task.name] = compiled
    flow = FlowSpec(
        run_concurrency=_concurrency(definition.concurrency, "run", definition.name,
                                     f"workflow {definition.name!r}"),
        tasks=tasks, sticky=definition.sticky or "none",
        default_priority=definition.default_priority or 2,
    )
    return flow if flow.active or flow.default_priority != 2 else None


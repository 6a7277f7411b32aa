"""Compiled workflow versions: the DAG facts the hot path needs, computed once per version.

Versions are immutable, so a process-wide cache keyed by version id never goes stale.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import msgspec
import msgspec.structs

from app.domain.workflows.schemas import TaskDefinition, WorkflowDefinition
from app.engine.durable.dag_conditions import TaskConditions, compile_task
from app.engine.flow.spec import FlowSpec, compile_flow


@dataclass(frozen=True, slots=True)
class TaskSpec:
    name: str
    action: str
    parents: tuple[str, ...]
    children: tuple[str, ...]
    descendants: tuple[str, ...]
    max_attempts: int
    backoff_factor: float
    backoff_max_seconds: float
    execution_timeout: float
    schedule_timeout: float | None
    kind: str = "task"  # "task", or "on_failure" (runs only when the run failed)
    is_leaf: bool = False  # its output is part of the run's output
    conditions: TaskConditions | None = None
    """wait_for/skip_if/cancel_if (docs/durable.md); None keeps the task on the fast path."""


@dataclass(frozen=True, slots=True)
class WorkflowSpec:
    version_id: uuid.UUID
    name: str
    tasks: dict[str, TaskSpec]
    roots: tuple[str, ...]
    leaves: tuple[str, ...]
    on_failure: str | None = None
    flow: FlowSpec | None = None
    """Flow rules (concurrency, rate limits, labels, sticky, default priority), or None."""

    def task(self, name: str) -> TaskSpec:
        return self.tasks[name]


def action_for(workflow: str, task: str) -> str:
    return f"{workflow}:{task}"


def compile_definition(version_id: uuid.UUID, definition: WorkflowDefinition) -> WorkflowSpec:
    dag = list(definition.tasks)
    leaves = tuple(t.name for t in dag if not any(t.name in o.parents for o in dag))
    if definition.on_success is not None:
        # An on-success task is a plain task whose parents are every leaf.
        dag.append(msgspec.structs.replace(definition.on_success, parents=list(leaves)))
    children: dict[str, list[str]] = {t.name: [] for t in dag}
    for task in dag:
        for parent in task.parents:
            children[parent].append(task.name)

    def descendants_of(name: str) -> tuple[str, ...]:
        found: list[str] = []
        stack = list(children[name])
        while stack:
            node = stack.pop()
            if node not in found:
                found.append(node)
                stack.extend(children[node])
        return tuple(found)

    def task_spec(task: TaskDefinition, kind: str = "task") -> TaskSpec:
        return TaskSpec(
            name=task.name, action=action_for(definition.name, task.name),
            parents=tuple(task.parents), children=tuple(children.get(task.name, ())),
            descendants=descendants_of(task.name) if task.name in children else (),
            max_attempts=task.retries + 1, backoff_factor=task.backoff_factor,
            backoff_max_seconds=task.backoff_max_seconds,
            execution_timeout=task.execution_timeout, schedule_timeout=task.schedule_timeout,
            kind=kind, is_leaf=task.name in leaves, conditions=compile_task(task),
        )

    tasks = {t.name: task_spec(t) for t in dag}
    if definition.on_failure is not None:
        tasks[definition.on_failure.name] = task_spec(definition.on_failure, "on_failure")
    return WorkflowSpec(
        version_id=version_id, name=definition.name, tasks=tasks,
        roots=tuple(n for n, t in tasks.items() if not t.parents and t.kind == "task"),
        leaves=leaves,
        on_failure=definition.on_failure.name if definition.on_failure else None,
        flow=compile_flow(definition),
    )


class SpecCache:
    """Compiled specs by version id (bounded: old versions fall out first)."""

    def __init__(self, max_entries: int = 10_000) -> None:
        self._specs: dict[uuid.UUID, WorkflowSpec] = {}
        self._max = max_entries

    def get(self, version_id: uuid.UUID) -> WorkflowSpec | None:
        return self._specs.get(version_id)

    def add(self, version_id: uuid.UUID, definition: Any) -> WorkflowSpec:
        """Compile ``definition`` (a dict from jsonb or a struct) and remember it."""
        if not isinstance(definition, WorkflowDefinition):
            definition = msgspec.convert(definition, WorkflowDefinition)
        spec = compile_definition(version_id, definition)
        if len(self._specs) >= self._max:
            self._specs.pop(next(iter(self._specs)))
        self._specs[version_id] = spec
        return spec

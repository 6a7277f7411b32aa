"""Rules a workflow definition must satisfy beyond its schema: a DAG of uniquely named tasks,
conditions on direct parents, and flow rules that compile."""

from __future__ import annotations

import hashlib
from typing import Any

import msgspec
import msgspec.structs

from app.core.errors import Invalid
from app.domain.workflows.schemas import WorkflowDefinition
from app.engine.durable import dag_conditions
from app.engine.flow import spec as flow_spec


def find_cycle(edges: dict[str, list[str]]) -> list[str] | None:
    """A cycle in ``task → parents`` edges as ``[a, b, …, a]``, or None when there is none."""
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for parent in edges.get(node, []):
            if state.get(parent) == 1:
                return [*path[path.index(parent):], parent]
            if parent not in state and (cycle := visit(parent)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for node in edges:
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def validate(definition: WorkflowDefinition) -> None:
    """Raise :class:`Invalid` with a message naming the problem; return when the DAG is sound."""
    hooks = [t for t in (definition.on_failure, definition.on_success) if t is not None]
    for hook in hooks:
        if hook.parents:
            raise Invalid(f"on-failure/on-success task {hook.name!r} cannot declare parents: "
                          "it runs after the whole DAG")
    names = [task.name for task in [*definition.tasks, *hooks]]
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise Invalid(f"duplicate task name {name!r} in workflow {definition.name!r}")
        seen.add(name)
    for task in definition.tasks:
        if len(set(task.parents)) != len(task.parents):
            raise Invalid(f"task {task.name!r} lists a parent twice")
        for parent in task.parents:
            if parent not in seen or parent in {h.name for h in hooks}:
                raise Invalid(f"task {task.name!r} has unknown parent {parent!r}")
    cycle = find_cycle({task.name: task.parents for task in definition.tasks})
    if cycle:
        # Edges point child → parent; show them in execution order.
        raise Invalid("cycle: " + " -> ".join(reversed(cycle)))
    # Conditions: each names a direct parent, its CEL compiles (docs/durable.md).
    for task in definition.tasks:
        dag_conditions.check(task)
    for hook in hooks:
        dag_conditions.check(hook, hook=True)
    # Flow rules: CEL expressions compile, rate limits name a key, CANCEL_* only on workflows
    # (docs/flow-control.md). Raises Invalid naming the rule.
    flow_spec.compile_flow(definition)


def _without_defaults(value: Any) -> Any:
    """Builtins of ``value`` with every struct field equal to its default left out.

    Compared by value: msgspec's ``omit_defaults`` omits only the default *object*, so a decoded
    ``2.0`` would otherwise differ from the default ``2.0`` and change the checksum.
    """
    if isinstance(value, msgspec.Struct):
        out = {}
        for field in msgspec.structs.fields(value):
            item = getattr(value, field.name)
            default = (field.default_factory() if field.default_factory is not msgspec.NODEFAULT
                       else field.default)
            if field.required or item != default:
                out[field.encode_name] = _without_defaults(item)
        return out
    if isinstance(value, list | tuple):
        return [_without_defaults(item) for item in value]
    if isinstance(value, dict):
        return {key: _without_defaults(item) for key, item in value.items()}
    return msgspec.to_builtins(value)


def checksum(definition: WorkflowDefinition) -> str:
    """Stable across key order and defaults, so re-registering unchanged code is a no-op."""
    canonical = msgspec.json.encode(_without_defaults(definition), order="sorted")
    return hashlib.sha256(canonical).hexdigest()[:32]

"""Properties of the workflow DAG validator and compiler (app/domain/workflows/validation.py,
app/engine/spec.py) over random DAGs: valid ones pass and compile to the right graph facts, and a
back edge is always reported as a cycle that really is one."""

from __future__ import annotations

import itertools
import uuid

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.core.errors import Invalid
from app.domain.workflows import validation
from app.domain.workflows.schemas import MAX_TASKS, TaskDefinition, WorkflowDefinition
from app.engine.spec import compile_definition

SETTINGS = settings(max_examples=150, deadline=None, derandomize=True)
names = st.from_regex(r"[A-Za-z0-9_.-]{1,12}", fullmatch=True)
Dag = dict[str, list[str]]  # task → parents, in declaration order


@st.composite
def dags(draw: st.DrawFn, min_size: int = 1, max_size: int = 25) -> Dag:
    """A random DAG: parents are drawn among earlier tasks, then the declaration order is
    shuffled so the validator cannot rely on it."""
    labels = draw(st.lists(names, min_size=min_size, max_size=max_size, unique=True))
    parents = {name: draw(st.lists(st.sampled_from(labels[:i]), unique=True, max_size=4))
               if i else [] for i, name in enumerate(labels)}
    return {name: parents[name] for name in draw(st.permutations(labels))}


def definition(dag: Dag) -> WorkflowDefinition:
    return WorkflowDefinition(name="wf", tasks=[TaskDefinition(name=name, parents=list(parents))
                                                for name, parents in dag.items()])


def children_of(dag: Dag) -> dict[str, set[str]]:
    children: dict[str, set[str]] = {name: set() for name in dag}
    for name, parents in dag.items():
        for parent in parents:
            children[parent].add(name)
    return children


def descendants(dag: Dag, node: str) -> set[str]:
    children, found, stack = children_of(dag), set(), [node]
    while stack:
        for child in children[stack.pop()]:
            if child not in found:
                found.add(child)
                stack.append(child)
    return found


def reported_cycle(dag: Dag) -> list[str]:
    with pytest.raises(Invalid) as caught:
        validation.validate(definition(dag))
    message = caught.value.message
    assert message.startswith("cycle: "), message
    return message.removeprefix("cycle: ").split(" -> ")


@SETTINGS
@given(dags())
def test_a_random_dag_is_valid(dag: Dag) -> None:
    validation.validate(definition(dag))
    assert validation.find_cycle(dag) is None


@SETTINGS
@given(dags(), st.data())
def test_a_back_edge_is_reported_as_a_real_cycle(dag: Dag, data: st.DataObject) -> None:
    with_descendants = [n for n in dag if descendants(dag, n)]
    if not with_descendants:
        # No edge at all: a self-loop is the only back edge there is.
        node = data.draw(st.sampled_from(list(dag)))
        dag[node] = [*dag[node], node]
    else:
        node = data.draw(st.sampled_from(with_descendants))
        below = data.draw(st.sampled_from(sorted(descendants(dag, node))))
        dag[node] = [*dag[node], below]  # node now waits for a task that waits for it
    cycle = reported_cycle(dag)
    assert len(cycle) >= 2
    assert cycle[0] == cycle[-1]
    assert len(set(cycle[:-1])) == len(cycle) - 1, f"a node repeats inside {cycle}"
    for parent, child in itertools.pairwise(cycle):
        assert parent in dag[child], f"{parent} -> {child} in {cycle} is not an edge"


@SETTINGS
@given(dags(min_size=2), st.data())
def test_a_forward_edge_keeps_the_dag_valid(dag: Dag, data: st.DataObject) -> None:
    node = data.draw(st.sampled_from(list(dag)))
    allowed = sorted(set(dag) - descendants(dag, node) - {node} - set(dag[node]))
    if allowed:
        dag[node] = [*dag[node], data.draw(st.sampled_from(allowed))]
    validation.validate(definition(dag))


@SETTINGS
@given(dags())
def test_the_compiled_spec_matches_the_graph(dag: Dag) -> None:
    spec = compile_definition(uuid.uuid4(), definition(dag))
    children = children_of(dag)
    assert set(spec.tasks) == set(dag)
    for name, task in spec.tasks.items():
        assert set(task.parents) == set(dag[name])
        assert set(task.children) == children[name]
        assert len(task.descendants) == len(set(task.descendants))
        assert set(task.descendants) == descendants(dag, name)
        assert task.action == f"wf:{name}"
    assert set(spec.roots) == {n for n, parents in dag.items() if not parents}
    assert set(spec.leaves) == {n for n in dag if not children[n]}


def spelled_out(dag: Dag, rnd, defaults: list[tuple[str, object]]) -> WorkflowDefinition:  # type: ignore[no-untyped-def]
    """``dag`` as JSON would carry it: keys in random order, some defaults written out."""
    tasks = []
    for name, parents in dag.items():
        fields = [("name", name), ("parents", parents), *defaults]
        rnd.shuffle(fields)
        tasks.append(dict(fields))
    document = msgspec.json.encode({"tasks": tasks, "on_events": [], "name": "wf"})
    return msgspec.json.decode(document, type=WorkflowDefinition)


@SETTINGS
@given(dags(), st.randoms(use_true_random=False))
def test_the_checksum_ignores_key_order(dag: Dag, rnd) -> None:  # type: ignore[no-untyped-def]
    decoded = spelled_out(dag, rnd, [("retries", 0)])
    assert validation.checksum(decoded) == validation.checksum(definition(dag))


@SETTINGS
@given(dags(), st.randoms(use_true_random=False))
def test_the_checksum_ignores_explicit_defaults(dag: Dag, rnd) -> None:  # type: ignore[no-untyped-def]
    decoded = spelled_out(dag, rnd, [("backoff_factor", 2.0), ("execution_timeout", 60.0)])
    assert validation.checksum(decoded) == validation.checksum(definition(dag))


@SETTINGS
@given(dags(), names)
def test_an_unknown_parent_is_named(dag: Dag, stranger: str) -> None:
    if stranger in dag:
        return
    first = next(iter(dag))
    dag[first] = [*dag[first], stranger]
    with pytest.raises(Invalid, match="unknown parent"):
        validation.validate(definition(dag))


def test_the_longest_chain_validates_and_its_back_edge_is_found() -> None:
    """Recursion depth: a chain of MAX_TASKS tasks, then closed into one big cycle."""
    chain = {f"t{i}": [f"t{i - 1}"] if i else [] for i in range(MAX_TASKS)}
    validation.validate(definition(chain))
    chain["t0"] = [f"t{MAX_TASKS - 1}"]
    cycle = reported_cycle(chain)
    assert len(cycle) == MAX_TASKS + 1

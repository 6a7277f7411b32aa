"""``kiln.testing``: tasks and workflows run in-process, as a worker would run them."""

from __future__ import annotations

import asyncio
import dataclasses

import pydantic
import pytest
from kiln import Context, Kiln, SerializationError, testing


class Order(pydantic.BaseModel):
    id: int


@dataclasses.dataclass
class Total:
    amount: float


@pytest.fixture
def kiln() -> Kiln:
    return Kiln(api_url="http://kiln.test")


@pytest.fixture
def diamond(kiln):
    """a -> b, c -> d, recording the order tasks ran in."""
    wf = kiln.workflow("diamond")
    ran: list[str] = []

    @wf.task()
    def a(input, ctx):
        ran.append("a")
        return {"n": input["n"] + 1}

    @wf.task(parents=[a])
    async def b(input, ctx):
        ran.append("b")
        await asyncio.sleep(0)
        return {"n": ctx.task_output(a)["n"] * 2}

    @wf.task(parents=[a])
    def c(input, ctx):
        ran.append("c")
        ctx.log("c ran")
        return {"n": ctx.task_output(a)["n"] * 3}

    @wf.task(parents=[b, c])
    def d(input, ctx):
        ran.append("d")
        return {"sum": ctx.task_output(b)["n"] + ctx.task_output(c)["n"]}

    return wf, ran


def test_run_workflow_runs_the_dag_in_dependency_order(diamond):
    wf, ran = diamond
    assert testing.run_workflow(wf, {"n": 1}) == {"d": {"sum": 10}}
    assert ran.index("a") < ran.index("b") < ran.index("d")
    assert ran.index("c") < ran.index("d")


def test_run_workflow_can_return_every_output(diamond):
    wf, _ = diamond
    assert testing.run_workflow(wf, {"n": 0}, outputs="all") == {
        "a": {"n": 1}, "b": {"n": 2}, "c": {"n": 3}, "d": {"sum": 5}}


async def test_aio_run_workflow_inside_an_async_test(diamond):
    wf, _ = diamond
    assert await testing.aio_run_workflow(wf, {"n": 1}) == {"d": {"sum": 10}}


async def test_the_blocking_helpers_point_async_tests_to_the_aio_ones(diamond):
    wf, _ = diamond
    with pytest.raises(RuntimeError, match=r"use await kiln.testing.aio_run_workflow"):
        testing.run_workflow(wf, {"n": 1})


def test_run_task_with_given_parents(diamond):
    wf, _ = diamond
    d = wf.tasks["d"]
    assert testing.run_task(d, parents={wf.tasks["b"]: {"n": 2}, "c": {"n": 3}}) == {"sum": 5}


def test_run_task_says_which_parent_outputs_are_missing(diamond):
    wf, _ = diamond
    with pytest.raises(ValueError, match=r"diamond:d needs its parents' outputs: pass "
                                         r"parents=\{'b': \.\.\., 'c': \.\.\.\}"):
        testing.run_task(wf.tasks["d"])


def test_standalone_and_typed_input_and_output(kiln):
    @kiln.task()
    async def charge(input: Order, ctx: Context) -> Total:
        assert isinstance(input, Order)
        return Total(amount=input.id * 1.5)

    assert testing.run_task(charge, {"id": "2"}) == Total(3.0)
    assert testing.run_task(charge, Order(id=2)) == Total(3.0)
    assert testing.run_workflow(charge, {"id": 2}) == {"charge": {"amount": 3.0}}


def test_an_unserializable_output_fails_as_it_would_on_a_worker(kiln):
    wf = kiln.workflow("w")

    @wf.task()
    def bad(input, ctx):
        return {"tags": {"a", "b"}}

    with pytest.raises(SerializationError, match=r"output of task w:bad\['tags'\] is a set"):
        testing.run_task(bad)


def test_task_exceptions_propagate_after_the_on_failure_task(kiln):
    wf = kiln.workflow("w")
    seen: list[dict[str, str]] = []

    @wf.task()
    def boom(input, ctx):
        raise RuntimeError("boom")

    @wf.on_failure_task()
    def cleanup(input, ctx):
        seen.append(ctx.errors)

    with pytest.raises(RuntimeError, match="boom"):
        testing.run_workflow(wf)
    assert seen == [{"boom": "RuntimeError: boom"}]


def test_the_on_success_task_runs_after_the_dag_and_is_not_a_leaf(kiln):
    wf = kiln.workflow("w")
    wf.task(name="only")(lambda input, ctx: 1)
    wf.on_success_task(name="done")(lambda input, ctx: "celebrated")
    assert testing.run_workflow(wf) == {"only": 1}
    assert testing.run_workflow(wf, outputs="all") == {"only": 1, "done": "celebrated"}


def test_recording_context_for_direct_calls(diamond):
    wf, _ = diamond
    ctx = testing.context(wf.tasks["c"], parents={"a": {"n": 1}}, metadata={"k": "v"}, attempt=3)
    assert wf.tasks["c"].fn({}, ctx) == {"n": 3}
    assert ctx.logs == [("info", "c ran")]
    assert (ctx.attempt, ctx.metadata, ctx.task_name) == (3, {"k": "v"}, "c")
    ctx.cancel()
    assert ctx.cancelled


def test_kiln_testing_is_reachable_from_the_client_object(kiln):
    assert kiln.testing is testing

from __future__ import annotations

import dataclasses

import pytest
from kiln import Context, Kiln, TaskCancelledError


@dataclasses.dataclass
class Rows:
    rows: int


@pytest.fixture
def wf():
    return Kiln(api_url="http://kiln.test").workflow("etl")


def make_context(**overrides) -> Context:
    fields = {"run_id": "r1", "task_run_id": "t1", "attempt": 2, "workflow_name": "etl",
              "task_name": "load", "metadata": {"tenant": "acme"},
              "parents": {"extract": {"rows": 3}}}
    return Context(**{**fields, **overrides})


def test_context_carries_the_run_identity():
    ctx = make_context()
    assert (ctx.run_id, ctx.task_run_id, ctx.attempt) == ("r1", "t1", 2)
    assert (ctx.workflow_name, ctx.task_name) == ("etl", "load")
    assert ctx.metadata == {"tenant": "acme"}
    assert "attempt=2" in repr(ctx)


def test_task_output_by_task_or_name(wf):
    @wf.task()
    def extract(input, ctx):
        return {"rows": 3}

    ctx = make_context()
    assert ctx.task_output(extract) == {"rows": 3}
    assert ctx.task_output("extract") == {"rows": 3}


def test_task_output_rebuilds_a_typed_parent_output(wf):
    @wf.task()
    def extract(input, ctx) -> Rows:
        return Rows(3)

    assert make_context().task_output(extract) == Rows(3)


def test_task_output_of_a_non_parent_says_which_parents_exist(wf):
    @wf.task()
    def other(input, ctx):
        return None

    with pytest.raises(ValueError, match=r"'other' is not a parent of etl:load \(its parents: "
                                         r"extract\)"):
        make_context().task_output(other)


def test_log_goes_to_the_sink_and_the_kiln_task_logger(caplog):
    lines = []
    ctx = make_context(log_sink=lambda level, message: lines.append((level, message)))
    with caplog.at_level("INFO", logger="kiln.task"):
        ctx.log("hello")
        ctx.log("careful", level="WARNING")
    assert lines == [("info", "hello"), ("warning", "careful")]
    assert "etl:load hello" in caplog.text
    with pytest.raises(ValueError, match="log level 'loud' is not one of"):
        ctx.log("x", level="loud")


def test_cancellation_flags():
    ctx = make_context()
    assert not ctx.cancelled
    assert not ctx.exit_flag
    ctx.check_cancelled()
    assert ctx.wait_cancelled(0) is False
    ctx._request_cancel()
    assert ctx.cancelled
    assert ctx.exit_flag
    assert ctx.wait_cancelled(0) is True
    with pytest.raises(TaskCancelledError, match=r"task etl:load \(run r1\) was cancelled"):
        ctx.check_cancelled()


def test_a_bare_context_cannot_reach_a_worker():
    with pytest.raises(RuntimeError, match="not attached to a worker"):
        make_context().refresh_timeout("1m")


def test_errors_are_what_an_on_failure_task_receives():
    assert make_context(errors={"load": "ValueError: boom"}).errors == {"load": "ValueError: boom"}
    assert make_context().errors == {}


async def test_refresh_and_spawn_are_recorded_by_the_testing_context(wf):
    from kiln import KilnError, RunRequest, testing

    kiln = Kiln(api_url="http://kiln.test")

    @kiln.task()
    def child(input, ctx) -> Rows:
        return Rows(1)

    ctx = testing.context()
    ctx.refresh_timeout("5m")
    await ctx.aio_refresh_timeout(30)
    ref = ctx.spawn(child, {"n": 1}, key="k1")
    refs = await ctx.aio_spawn_many("other", [{"n": 2}, RunRequest({"n": 3}, priority=3)])
    assert ctx.refreshes == [300.0, 30.0]
    assert ctx.spawned == [("child", {"input": {"n": 1}, "key": "k1"}),
                           ("other", {"input": {"n": 2}}),
                           ("other", {"input": {"n": 3}, "priority": 3})]
    assert [ref.id, *(r.id for r in refs)] == ["test-child-1", "test-child-2", "test-child-3"]
    with pytest.raises(KilnError, match=r"recorded by kiln\.testing, not started"):
        ref.result()
    with pytest.raises(TypeError, match="spawn takes a workflow"):
        ctx.spawn(42)
    with pytest.raises(ValueError, match="priority must be 1"):
        ctx.spawn("other", priority=5)

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


def test_refresh_timeout_says_it_is_not_supported_yet():
    with pytest.raises(NotImplementedError, match="needs server support"):
        make_context().refresh_timeout("1m")

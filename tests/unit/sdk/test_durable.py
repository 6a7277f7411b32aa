"""DurableContext without a server: logged calls replay, a changed call is non-deterministic,
a wait that is not satisfied suspends (and ``except Exception`` does not swallow it)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

import pytest
from kiln import DurableContext, Kiln, NonDeterminismError
from kiln import durable as d

T = TypeVar("T")


class FakeRuntime:
    def __init__(self, satisfied: bool = False) -> None:
        self.steps: list[tuple[int, str, str, Any]] = []
        self.waits: list[tuple[int, str, Mapping[str, Any], float | None]] = []
        self.satisfied = satisfied

    def sync(self, factory: Callable[[], Awaitable[T]]) -> T:
        raise NotImplementedError

    async def durable_step(self, seq: int, kind: str, name: str, result: Any) -> Any:
        self.steps.append((seq, kind, name, result))
        return result

    async def durable_wait(self, seq: int, name: str, conditions: Mapping[str, Any],
                           timeout_seconds: float | None) -> Mapping[str, Any]:
        self.waits.append((seq, name, conditions, timeout_seconds))
        if self.satisfied:
            return {"satisfied": True, "result": {"timed_out": False, "matched": [
                {"event": {"key": "approved", "payload": {"ok": True}}}]}}
        return {"suspended": True}


def context(runtime: FakeRuntime, log: list[dict[str, Any]] | None = None) -> DurableContext:
    return DurableContext(durable_log=log or [], run_id="r", task_run_id="t", attempt=1,
                          workflow_name="wf", task_name="task", runtime=runtime)  # type: ignore[arg-type]


def test_a_step_runs_once_then_replays_from_the_log():
    calls: list[int] = []

    def charge(amount: int) -> dict[str, int]:
        calls.append(amount)
        return {"charged": amount}

    runtime = FakeRuntime()
    assert asyncio.run(context(runtime).step("charge", charge, 5)) == {"charged": 5}
    assert runtime.steps == [(1, "step", "charge", {"charged": 5})]
    replay = context(FakeRuntime(), [{"seq": 1, "kind": "step", "name": "charge",
                                      "result": {"charged": 5}}])
    assert asyncio.run(replay.step("charge", charge, 5)) == {"charged": 5}
    assert calls == [5]


def test_a_changed_call_raises_non_determinism_naming_both():
    ctx = context(FakeRuntime(), [{"seq": 1, "kind": "step", "name": "charge", "result": 1}])
    with pytest.raises(NonDeterminismError, match=r"'refund'.*'charge'"):
        asyncio.run(ctx.step("refund", lambda: 1))


def test_a_wait_not_yet_met_suspends_through_except_exception():
    runtime = FakeRuntime()
    ctx = context(runtime)

    async def body() -> None:
        try:
            await ctx.sleep_for("1h")
        except Exception:  # user code must not be able to swallow the suspension
            pytest.fail("Suspended was caught by except Exception")

    with pytest.raises(d.Suspended):
        asyncio.run(body())
    assert runtime.waits == [(1, "sleep", {"any_of": [{"sleep_for": 3600.0}]}, None)]


def test_wait_for_event_returns_the_event_or_none_after_a_timeout():
    runtime = FakeRuntime(satisfied=True)
    event = asyncio.run(context(runtime).wait_for_event("approved", scope="o1", timeout="24h"))
    assert event == {"key": "approved", "payload": {"ok": True}}
    assert runtime.waits[0][2] == {"any_of": [{"event": "approved", "scope": "o1"}]}
    assert runtime.waits[0][3] == 86400.0
    timed_out = context(FakeRuntime(), [{"seq": 1, "kind": "wait", "name": "event:approved",
                                         "result": {"timed_out": True, "matched": [None]}}])
    assert asyncio.run(timed_out.wait_for_event("approved")) is None


def test_durable_tasks_are_async_and_flagged_in_the_definition():
    kiln = Kiln(api_url="http://127.0.0.1:1")
    wf = kiln.workflow("wf")

    @wf.durable_task()
    async def flow(input: dict[str, Any], ctx: DurableContext) -> None: ...

    @kiln.durable_task(name="solo")
    async def solo(input: dict[str, Any], ctx: DurableContext) -> None: ...

    assert wf.definition()["tasks"][0].get("durable") is True
    assert solo.workflow.definition()["tasks"][0].get("durable") is True
    with pytest.raises(TypeError, match="async"):
        wf.durable_task(name="sync")(lambda input, ctx: None)

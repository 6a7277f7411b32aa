"""Triggering runs and following them, through the async API and the sync facade."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import threading

import httpx
import pytest
from kiln import Context, Event, Kiln, RunCancelledError, RunFailedError, RunRequest, runs

from tests.unit.sdk.conftest import FAST_RETRY


@dataclasses.dataclass
class Greeting:
    text: str


@pytest.fixture
def etl(kiln, server):
    wf = kiln.workflow("etl", on_events=["order:created"])

    @wf.task()
    def extract(input, ctx):
        return {"rows": 3}

    @wf.task(parents=[extract])
    def load(input, ctx):
        return {"rows": ctx.task_output(extract)["rows"]}

    server.workflows["etl"] = wf.definition()
    return wf


async def test_run_no_wait_returns_a_ref_whose_result_waits_for_the_end(etl, server):
    ref = await etl.aio_run_no_wait({"x": 1}, metadata={"source": "test"})
    assert ref.id == "run-1"
    assert server.runs[ref.id]["input"] == {"x": 1}
    assert server.runs[ref.id]["metadata"] == {"source": "test"}
    assert await ref.aio_status() == "running"
    waiting = asyncio.create_task(ref.aio_result())
    await asyncio.to_thread(server.finish, ref.id, "succeeded", {"load": {"rows": 3}})
    assert await waiting == {"load": {"rows": 3}}
    assert (await ref.aio_get())["workflow"] == "etl"


async def test_a_failed_run_raises_with_each_task_error(etl, server):
    ref = await etl.aio_run_no_wait({})
    server.finish(ref.id, "failed", errors={"load": "ValueError: boom"})
    with pytest.raises(RunFailedError, match=r"run run-1 of workflow 'etl' failed: load: "
                                             r"ValueError: boom") as info:
        await ref.aio_result()
    assert info.value.errors == {"load": "ValueError: boom"}
    assert info.value.run["status"] == "failed"


async def test_cancel_and_a_cancelled_run(etl, server):
    ref = await etl.aio_run_no_wait({})
    await ref.aio_cancel()
    assert server.runs[ref.id]["status"] == "cancelled"
    with pytest.raises(RunCancelledError, match="run run-1 of workflow 'etl' was cancelled"):
        await ref.aio_result()


async def test_result_timeout(etl):
    ref = await etl.aio_run_no_wait({})
    with pytest.raises(TimeoutError, match="run run-1 of workflow 'etl' is still running after "
                                           "'10ms'"):
        await ref.aio_result(timeout="10ms")


async def test_aio_run_of_a_standalone_task_returns_its_own_typed_output(kiln, server):
    @kiln.task()
    async def greet(input: dict, ctx: Context) -> Greeting:
        return Greeting(f"hi {input['name']}")

    server.workflows["greet"] = greet.workflow.definition()
    waiting = asyncio.create_task(greet.aio_run({"name": "ada"}))
    await server.until(lambda: "run-1" in server.runs)
    server.finish("run-1", "succeeded", {"greet": {"text": "hi ada"}})
    assert await waiting == Greeting("hi ada")


def test_the_sync_facade_works_from_plain_code(etl, server):
    ref = etl.run_no_wait({"x": 1})
    assert ref.status() == "running"
    server.finish(ref.id, "succeeded", {"load": {"rows": 1}})
    assert ref.result() == {"load": {"rows": 1}}
    assert etl.run_no_wait().get()["input"] == {}


def test_sync_run_waits_and_raises_the_failure(etl, server):
    def fail_when_started() -> None:
        server.wait_for(lambda: "run-1" in server.runs)
        server.finish("run-1", "failed", errors={"extract": "boom"})

    finisher = threading.Thread(target=fail_when_started)
    finisher.start()
    with pytest.raises(RunFailedError, match="extract: boom"):
        etl.run({"x": 1})
    finisher.join()


async def test_run_many_splits_into_bulk_requests(etl, server, monkeypatch):
    monkeypatch.setattr(runs, "BULK_LIMIT", 2)
    refs = await etl.aio_run_many_no_wait(
        [{"i": 0}, {"i": 1}, RunRequest({"i": 2}, metadata={"m": 1}, key="k2"), {"i": 3}, None])
    assert [ref.id for ref in refs] == [f"run-{n}" for n in range(1, 6)]
    assert [server.runs[ref.id]["input"] for ref in refs] == [
        {"i": 0}, {"i": 1}, {"i": 2}, {"i": 3}, {}]
    assert server.runs["run-3"]["metadata"] == {"m": 1}
    bulk = [path for method, path in server.requests if path.endswith("/runs/bulk")]
    assert len(bulk) == 3


async def test_events_push_and_bulk_push_bodies():
    bodies = []

    def capture(request: httpx.Request) -> httpx.Response:
        bodies.append((request.url.path, json.loads(request.content)))
        if request.url.path.endswith("/bulk"):
            return httpx.Response(201, json={"events": [{"id": "e2", "key": "a", "runs": []}]})
        return httpx.Response(201, json={"id": "e1", "runs": ["r1"]})

    client = Kiln(api_url="http://kiln.test", api_key="k", retry=FAST_RETRY,
                  http_transport=httpx.MockTransport(capture))
    assert await client.events.aio_push("order:created", {"id": 7}) == {"id": "e1", "runs": ["r1"]}
    assert await client.events.aio_bulk_push([Event("a", {"n": 1}, {"src": "x"}),
                                              {"key": "b", "payload": None}]) == {
        "events": [{"id": "e2", "key": "a", "runs": []}]}
    assert bodies == [
        ("/api/v1/events", {"key": "order:created", "payload": {"id": 7}}),
        ("/api/v1/events/bulk", {"events": [
            {"key": "a", "payload": {"n": 1}, "metadata": {"src": "x"}},
            {"key": "b", "payload": {}}]}),
    ]
    with pytest.raises(ValueError, match="event key must be a non-empty string"):
        await client.events.aio_push("", {})
    await client.aclose()


def test_events_push_from_sync_code_starts_subscribed_runs(etl, kiln, server):
    reply = kiln.events.push("order:created", {"id": 7})
    assert reply["runs"] == ["run-1"]
    assert server.runs["run-1"]["input"] == {"id": 7}


def test_run_ref_for_a_run_started_elsewhere(etl, kiln, server):
    etl.run_no_wait({})
    server.finish("run-1", "succeeded", {"load": {}})
    assert kiln.run_ref("run-1", "etl").result() == {"load": {}}

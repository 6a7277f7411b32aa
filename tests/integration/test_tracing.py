"""OpenTelemetry traces (``KILN_OTEL_ENABLED``): the trigger request's span, its context stored
with the run, and a claim→result span per task in the same trace — real spans into the SDK's
in-memory exporter. Off, or without the packages, nothing is traced or stored."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from app.core import tracing
from tests.support import api
from tests.support import protocol as p

CALLER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_PARENT = f"00-{CALLER_TRACE}-00f067aa0ba902b7-01"


@pytest.fixture(scope="module")
def exporter() -> Iterator[InMemorySpanExporter]:
    """The process-wide tracer provider (OpenTelemetry allows setting it once), exporting here."""
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        provider = TracerProvider()
        trace.set_tracer_provider(provider)
    memory = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    yield memory
    memory.shutdown()


@pytest.fixture
def traced(request) -> bool:
    return getattr(request, "param", True)


@pytest.fixture
def settings(settings, traced):
    return settings.model_copy(update={"run_loops": False, "otel_enabled": traced})


@pytest.fixture
async def worker_key(client):
    account = await api.signup(client)
    key = await api.create_api_key(client, account, scopes=["worker", "trigger", "read"])
    return api.bearer(key["key"])


async def run_one(client, worker_key) -> tuple[dict, dict]:
    await p.register_workflow(client, worker_key, {"name": "one", "tasks": [{"name": "one"}]})
    worker = await p.register_worker(client, worker_key, ["one:one"])
    triggered = await client.post("/api/v1/workflows/one/runs", json={"input": {}},
                                  headers={**worker_key, "traceparent": CALLER_PARENT})
    assert triggered.status_code == 201, triggered.text
    (task,) = await p.poll(client, worker_key, worker)
    await p.succeed(client, worker_key, worker, task, {"ok": True})
    return triggered.json(), task


async def test_a_run_is_traced_from_trigger_to_task_result(client, worker_key, exporter):
    exporter.clear()
    run, task = await run_one(client, worker_key)
    spans = exporter.get_finished_spans()
    (trigger,) = [s for s in spans if s.name == "POST /api/v1/workflows/{name}/runs"]
    assert format(trigger.context.trace_id, "032x") == CALLER_TRACE  # the caller's trace goes on
    assert trigger.kind == trace.SpanKind.SERVER
    assert trigger.attributes["http.response.status_code"] == 201
    assert trigger.attributes["kiln.request_id"]

    stored = (await p.get_run(client, worker_key, run["id"]))["metadata"]["traceparent"]
    assert stored == (f"00-{CALLER_TRACE}-{format(trigger.context.span_id, '016x')}-01")
    assert task["metadata"]["traceparent"] == stored  # the worker sees it too

    (work,) = [s for s in spans if s.name == "kiln.task one:one"]
    assert work.context.trace_id == trigger.context.trace_id
    assert work.parent is not None
    assert work.parent.span_id == trigger.context.span_id
    assert {k: work.attributes[k] for k in ("kiln.run_id", "kiln.task_id", "kiln.attempt",
                                             "kiln.outcome")} == {
        "kiln.run_id": run["id"], "kiln.task_id": task["task_run_id"], "kiln.attempt": 1,
        "kiln.outcome": "succeeded"}
    assert work.start_time <= work.end_time
    (delivered,) = [s for s in spans if s.name.endswith("/results")]
    assert [link.context.span_id for link in work.links] == [delivered.context.span_id]


@pytest.mark.parametrize("traced", [False], indirect=True)
async def test_without_the_setting_nothing_is_traced_or_stored(app, client, worker_key,
                                                               exporter):
    exporter.clear()
    run, task = await run_one(client, worker_key)
    assert app.state.engine.tracing is None
    assert exporter.get_finished_spans() == ()
    assert "traceparent" not in (await p.get_run(client, worker_key, run["id"]))["metadata"]
    assert "traceparent" not in task["metadata"]


def test_without_the_packages_tracing_stays_off(monkeypatch):
    monkeypatch.setitem(sys.modules, "opentelemetry", None)  # as if the extra were missing
    assert tracing.load(enabled=True) is None
    assert tracing.load(enabled=False) is None

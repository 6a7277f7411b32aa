"""Configuration and HTTP failures turn into exceptions that say what to do."""

from __future__ import annotations

import httpx
import pytest
from kiln import (
    AuthenticationError,
    ConfigurationError,
    Kiln,
    NotFoundError,
    PermissionDeniedError,
    RetryPolicy,
    SerializationError,
    ServerUnavailableError,
    ValidationError,
)

from tests.unit.sdk.conftest import FAST_RETRY


def client_for(handler, **kwargs) -> Kiln:
    return Kiln(api_url="http://kiln.test", api_key="k", retry=FAST_RETRY,
                http_transport=httpx.MockTransport(handler), **kwargs)


def workflow_of(client: Kiln):
    wf = client.workflow("etl")
    wf.task(name="extract")(lambda input, ctx: None)
    return wf


def error(status: int, code: str, message: str):
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, json={"error": {"code": code, "message": message}})
    return handler


def test_url_and_key_come_from_arguments_or_environment(monkeypatch):
    monkeypatch.setenv("KILN_API_URL", "https://kiln.example.com/api/v1/")
    monkeypatch.setenv("KILN_API_KEY", "from-env")
    assert Kiln().api_url == "https://kiln.example.com"
    assert Kiln(api_url="http://other:9000").api_url == "http://other:9000"
    monkeypatch.delenv("KILN_API_URL")
    assert Kiln().api_url == "http://127.0.0.1:8080"


@pytest.mark.parametrize("url", ["localhost:8080", "ftp://kiln", "http://", "not a url"])
def test_a_bad_api_url_is_refused_at_once(url):
    with pytest.raises(ConfigurationError, match="is not an http\\(s\\) URL; set KILN_API_URL"):
        Kiln(api_url=url)


async def test_a_missing_key_is_reported_on_first_use_not_at_construction(monkeypatch):
    monkeypatch.delenv("KILN_API_KEY", raising=False)
    client = Kiln(api_url="http://kiln.test")
    with pytest.raises(ConfigurationError, match=r"no Kiln API key: pass Kiln\(api_key=\.\.\.\) "
                                                 r"or set KILN_API_KEY"):
        await workflow_of(client).aio_run_no_wait({})


async def test_401_names_the_url_and_the_key_setting():
    client = client_for(error(401, "unauthorized", "invalid API key"))
    with pytest.raises(AuthenticationError) as info:
        await workflow_of(client).aio_run_no_wait({})
    assert str(info.value) == ("the Kiln API at http://kiln.test rejected the API key (401 "
                               "unauthorized: invalid API key); check KILN_API_KEY or "
                               "Kiln(api_key=...)")
    assert info.value.status == 401
    await client.aclose()


async def test_403_explains_scopes():
    client = client_for(error(403, "forbidden", "this key lacks the trigger scope"))
    with pytest.raises(PermissionDeniedError, match=r"may not POST /api/v1/workflows/etl/runs at "
                                                    r"http://kiln.test .*'trigger' scope"):
        await workflow_of(client).aio_run_no_wait({})
    await client.aclose()


async def test_a_404_from_something_that_is_not_kiln_asks_about_the_url():
    client = client_for(lambda request: httpx.Response(404, text="<html>Not Found</html>"))
    with pytest.raises(NotFoundError, match=r"is not a route of http://kiln.test \(404: "
                                            r"<html>Not Found</html>\); is KILN_API_URL"):
        await workflow_of(client).aio_run_no_wait({})
    await client.aclose()


async def test_a_non_json_success_is_reported():
    client = client_for(lambda request: httpx.Response(200, text="hello"))
    with pytest.raises(Exception, match="non-JSON content; is KILN_API_URL a Kiln server"):
        await workflow_of(client).aio_run_no_wait({})
    await client.aclose()


async def test_422_carries_the_server_message():
    client = client_for(error(422, "validation_error", "cycle: a -> b -> a"))
    with pytest.raises(ValidationError, match=r"failed \(422 validation_error: cycle: a -> b -> a\)"
                   ) as info:
        await workflow_of(client).aio_run_no_wait({})
    assert info.value.server_message == "cycle: a -> b -> a"
    await client.aclose()


async def test_server_down_is_retried_then_reported_readably():
    calls = []

    def refuse(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        raise httpx.ConnectError("[Errno 111] Connection refused", request=request)

    client = client_for(refuse)
    with pytest.raises(ServerUnavailableError) as info:
        await workflow_of(client).aio_run_no_wait({})
    assert len(calls) == 3
    assert info.value.attempts == 3
    message = str(info.value)
    assert message.startswith("could not reach the Kiln API at http://kiln.test (POST "
                              "/api/v1/workflows/etl/runs) after 3 attempt(s)")
    assert "ConnectError: [Errno 111] Connection refused" in message
    assert message.endswith("Is the server running, and is KILN_API_URL right?")
    await client.aclose()


async def test_503_is_retried_with_the_same_idempotency_key():
    seen: list[str | None] = []

    def flaky(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("Idempotency-Key"))
        if len(seen) < 3:
            return httpx.Response(503, json={"error": {"code": "x", "message": "busy"}})
        return httpx.Response(201, json={"id": "run-1", "status": "queued"})

    client = client_for(flaky)
    ref = await workflow_of(client).aio_run_no_wait({})
    assert ref.id == "run-1"
    assert len(seen) == 3
    assert len(set(seen)) == 1
    assert seen[0]
    await client.aclose()


async def test_a_read_timeout_on_a_non_idempotent_request_is_not_retried():
    calls = []

    def slow(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        raise httpx.ReadTimeout("timed out", request=request)

    client = client_for(slow)
    with pytest.raises(ServerUnavailableError, match="after 1 attempt"):
        await client.events.aio_push("order:created", {"id": 7})
    assert len(calls) == 1
    await client.aclose()


async def test_input_that_does_not_serialize_fails_before_any_request():
    calls = []
    client = client_for(lambda request: calls.append(request) or httpx.Response(201, json={}))
    with pytest.raises(SerializationError, match=r"input of workflow 'etl'\['when'\] is a set"):
        await workflow_of(client).aio_run_no_wait({"when": {1}})
    assert calls == []
    await client.aclose()


def test_retry_delays_grow_with_jitter_up_to_the_cap():
    policy = RetryPolicy(attempts=10, base_delay=0.2, max_delay=5.0)
    for attempt, ceiling in [(1, 0.2), (2, 0.4), (3, 0.8), (8, 5.0)]:
        for _ in range(20):
            assert ceiling / 2 <= policy.delay(attempt) <= ceiling


def test_a_workflow_without_a_client_cannot_be_triggered():
    from kiln import Workflow

    wf = Workflow("loose")
    with pytest.raises(ConfigurationError, match="has no Kiln client"):
        wf.run_no_wait({})

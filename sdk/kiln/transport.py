"""The one path every request takes: auth, JSON, retries with backoff, readable errors.

Async first: one ``httpx.AsyncClient`` per event loop (the worker's loop, its heartbeat thread's
loop, the sync facade's loop and any user loop each get their own, because an AsyncClient's
connections belong to the loop that opened them).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import random
import threading
import time
import weakref
from typing import Any

import httpx

from kiln import _log, errors, serialization

VERSION = "0.1.0"
_NO_BODY: Any = object()
_RETRY_STATUSES = frozenset({429, 502, 503, 504})
# Errors raised before a request could have reached the server: safe to retry any request.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


@dataclasses.dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently transient failures (connect errors, 502/503/504) are retried.

    ``attempts`` counts every try, the first included. The delay before try ``n`` (from 1) is
    ``min(max_delay, base_delay * 2**(n-1))``, of which a random half is jitter so that many
    workers restarting together do not retry in lockstep.
    """

    attempts: int = 6
    base_delay: float = 0.2
    max_delay: float = 5.0

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed try number ``attempt`` (from 1)."""
        ceiling = min(self.max_delay, self.base_delay * 2.0 ** (attempt - 1))
        return ceiling / 2 + random.uniform(0, ceiling / 2)  # noqa: S311 - jitter, not crypto


class Transport:
    """Sends JSON requests to one Kiln API with one API key."""

    def __init__(
        self, base_url: str, api_key: str | None, *, timeout: float = 30.0,
        retry: RetryPolicy | None = None, http_transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = base_url
        self._api_key = api_key
        self._timeout = timeout
        self.retry = retry or RetryPolicy()
        self._http_transport = http_transport
        self._clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, httpx.AsyncClient]
        self._clients = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    def _client(self) -> httpx.AsyncClient:
        if not self._api_key:
            raise errors.ConfigurationError(
                "no Kiln API key: pass Kiln(api_key=...) or set KILN_API_KEY (create a key in the "
                "dashboard or with POST /api/v1/api-keys)")
        loop = asyncio.get_running_loop()
        with self._lock:
            client = self._clients.get(loop)
            if client is None or client.is_closed:
                client = httpx.AsyncClient(
                    base_url=self.base_url, transport=self._http_transport,
                    timeout=httpx.Timeout(self._timeout, connect=min(self._timeout, 10.0)),
                    headers={"Authorization": f"Bearer {self._api_key}",
                             "User-Agent": f"kiln-sdk/{VERSION}"},
                )
                self._clients[loop] = client
        return client

    async def aclose(self) -> None:
        """Close the client of the running event loop (others are closed by their own loops)."""
        with self._lock:
            client = self._clients.pop(asyncio.get_running_loop(), None)
        if client is not None:
            await client.aclose()

    async def request(
        self, method: str, path: str, *, body: Any = _NO_BODY, what: str = "request body",
        headers: dict[str, str] | None = None, http_timeout: httpx.Timeout | None = None,
        retry: RetryPolicy | None = None, idempotent: bool = True,
    ) -> Any:
        """Send one request and return the decoded JSON reply (``None`` for an empty one).

        Transient failures are retried per ``retry``; a request that is not ``idempotent`` is only
        retried when it certainly never reached the server. Raises ``SerializationError`` for a
        body that is not JSON, an ``ApiError`` subclass for an error status, and
        ``ServerUnavailableError`` when the retries ran out.
        """
        client = self._client()
        send_headers = dict(headers or {})
        content = None
        if body is not _NO_BODY:
            content = serialization.dumps(body, what)
            send_headers["Content-Type"] = "application/json"
        request = client.build_request(method, path, content=content, headers=send_headers,
                                       timeout=http_timeout or httpx.USE_CLIENT_DEFAULT)
        response = await self._send(client, request, retry or self.retry, idempotent)
        return self._decode(request, response)

    async def _send(self, client: httpx.AsyncClient, request: httpx.Request, policy: RetryPolicy,
                    idempotent: bool) -> httpx.Response:
        started = time.monotonic()
        for attempt in range(1, policy.attempts + 1):
            try:
                response = await client.send(request)
            except httpx.TransportError as exc:
                if attempt == policy.attempts or not (idempotent or isinstance(exc, _NOT_SENT)):
                    raise self._unavailable(request, attempt, started, _describe(exc)) from exc
                problem = _describe(exc)
            else:
                if response.status_code not in _RETRY_STATUSES:
                    return response
                if attempt == policy.attempts or not idempotent:
                    return response
                problem = f"HTTP {response.status_code}"
            delay = _retry_after(response) if problem == "HTTP 429" else policy.delay(attempt)
            _log.event(logging.WARNING, "http_retry", method=request.method,
                       path=request.url.path, attempt=attempt, delay=round(delay, 3),
                       problem=problem)
            await asyncio.sleep(delay)
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _unavailable(self, request: httpx.Request, attempts: int, started: float,
                     problem: str) -> errors.ServerUnavailableError:
        elapsed = time.monotonic() - started
        return errors.ServerUnavailableError(
            f"could not reach the Kiln API at {self.base_url} ({request.method} "
            f"{request.url.path}) after {attempts} attempt(s) over {elapsed:.1f}s: {problem}. "
            "Is the server running, and is KILN_API_URL right?",
            url=self.base_url, attempts=attempts)

    def _decode(self, request: httpx.Request, response: httpx.Response) -> Any:
        if response.status_code >= 400:
            raise self._error(request, response)
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise errors.ApiError(
                f"{request.method} {request.url.path} at {self.base_url} answered "
                f"{response.status_code} with non-JSON content; is KILN_API_URL a Kiln server?",
                status=response.status_code, method=request.method, url=str(request.url),
            ) from None

    def _error(self, request: httpx.Request, response: httpx.Response) -> errors.ApiError:
        status, route = response.status_code, f"{request.method} {request.url.path}"
        code, message = _error_fields(response)
        said = f"{status} {code}: {message}" if code else f"{status}: {message}"
        kind: type[errors.ApiError] = errors.ApiError
        if status == 401:
            kind = errors.AuthenticationError
            text = (f"the Kiln API at {self.base_url} rejected the API key ({said}); check "
                    "KILN_API_KEY or Kiln(api_key=...)")
        elif status == 403:
            kind = errors.PermissionDeniedError
            text = (f"the API key may not {route} at {self.base_url} ({said}); workers need a key "
                    "with the 'worker' scope, triggers and events one with the 'trigger' scope")
        elif status == 404 and code is None:
            kind = errors.NotFoundError
            text = (f"{route} is not a route of {self.base_url} ({said}); is KILN_API_URL the "
                    "address of a Kiln server?")
        elif status in _RETRY_STATUSES:
            text = f"the Kiln API at {self.base_url} is unavailable: {route} answered {said}"
        else:
            kind = {404: errors.NotFoundError, 422: errors.ValidationError}.get(status, kind)
            text = f"{route} at {self.base_url} failed ({said})"
        return kind(text, status=status, code=code, server_message=message,
                    method=request.method, url=str(request.url))


def _error_fields(response: httpx.Response) -> tuple[str | None, str]:
    """The server's ``{"error": {"code", "message"}}``, or a snippet of whatever came back."""
    try:
        error = response.json().get("error")
        if isinstance(error, dict) and "message" in error:
            return (str(error["code"]) if error.get("code") else None), str(error["message"])
    except (ValueError, AttributeError):
        pass
    snippet = " ".join(response.text.split())[:200]
    return None, snippet or response.reason_phrase or "no body"


def _retry_after(response: httpx.Response) -> float:
    try:
        return min(60.0, max(0.0, float(response.headers.get("Retry-After", "1"))))
    except ValueError:
        return 1.0


def _describe(exc: httpx.TransportError) -> str:
    detail = str(exc) or exc.__class__.__name__
    return f"{exc.__class__.__name__}: {detail}" if detail != exc.__class__.__name__ else detail


"""Request ids and the per-request log line.

:func:`request_id_middleware` (outermost) takes the caller's ``X-Request-ID`` when it is a sane
token, otherwise makes one, returns it in the response's ``X-Request-ID`` header and binds it to
structlog's context, so every line logged while the request runs — the engine's included —
carries ``request_id``. Litestar runs middleware only for requests it routed, so the header is
set by the app's ``before_send`` hook :func:`send_request_id` instead: an unknown path's 404
carries one too. When the request ends it logs one ``action=request`` line: method, path
(never the query string: cursors and tokens may ride there), status and duration.
:func:`tenant_context_middleware` sits inside the authentication middleware and adds
``tenant_id`` to the context once the caller is known.
"""

from __future__ import annotations

import re
import time
import uuid
from typing import Any, cast

import structlog
from litestar.datastructures import MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

log = structlog.get_logger("kiln.http")
HEADER = "X-Request-ID"
SCOPE_KEY = "kiln_request_id"
# Echoed into logs and a response header: a bounded token, so a caller cannot forge log lines
# or headers with it. Anything else is replaced by a fresh id.
ACCEPTED = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def _incoming(scope: Scope) -> str | None:
    for key, value in scope.get("headers", []):
        if key == b"x-request-id":
            text = value.decode("latin-1")
            return text if ACCEPTED.fullmatch(text) else None
    return None


def request_id_for(scope: Scope) -> str:
    """The request's id, chosen once per request and kept in its scope."""
    state = cast(dict[str, Any], scope)
    found: str | None = state.get(SCOPE_KEY)
    if found is None:
        found = state[SCOPE_KEY] = _incoming(scope) or uuid.uuid4().hex
    return found


async def send_request_id(message: Message, scope: Scope) -> None:
    """``before_send`` hook: every HTTP response names its request."""
    if message["type"] == "http.response.start":
        MutableScopeHeaders.from_message(message)[HEADER] = request_id_for(scope)


def request_id_middleware(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        status = 500  # what the client sees if the app fails before answering
        began = time.perf_counter()

        async def send_with_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        with structlog.contextvars.bound_contextvars(request_id=request_id_for(scope)):
            try:
                await app(scope, receive, send_with_status)
            finally:
                log.info("request", action="request", method=scope.get("method"),
                         path=scope.get("path"), status=status,
                         duration_ms=round((time.perf_counter() - began) * 1000, 2),
                         **_tenant(scope))

    return middleware


def _tenant(scope: Scope) -> dict[str, Any]:
    tenant_id = getattr(scope.get("user"), "tenant_id", None)
    return {"tenant_id": str(tenant_id)} if tenant_id is not None else {}


def tenant_context_middleware(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        with structlog.contextvars.bound_contextvars(**_tenant(scope)):
            await app(scope, receive, send)

    return middleware

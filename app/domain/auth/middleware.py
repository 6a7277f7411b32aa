"""ASGI middleware: authenticate when credentials are present and set the tenant context.

Routes that need a caller say so with guards (:mod:`app.domain.auth.guards`); this only refuses
credentials that are present but wrong, so public routes (health, sign-up, incoming webhooks) and
protected ones share one path.
"""

from __future__ import annotations

from http.cookies import SimpleCookie
from typing import Any

from litestar.types import ASGIApp, Receive, Scope, Send

from app.core.errors import Unauthorized
from app.db import tenancy
from app.domain.api_keys import secrets as key_secrets
from app.domain.auth import authenticate


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return str(value.decode("latin-1"))
    return None


def _cookies(scope: Scope) -> dict[str, str]:
    raw = _header(scope, b"cookie")
    if not raw:
        return {}
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(raw)
    except Exception:  # a malformed Cookie header is the client's problem, not a 500
        return {}
    return {key: morsel.value for key, morsel in jar.items()}


# Routes that authenticate on their own terms and may carry an Authorization header that is not
# a Kiln credential: incoming webhooks (their verifier reads it) and the metrics scrape (its own
# token). They get no principal.
SELF_AUTHENTICATED = ("/hooks/", "/metrics")
# Opening a session must work whatever stale session cookie the browser still holds.
COOKIES_IGNORED = frozenset({"/api/v1/auth/login", "/api/v1/auth/signup"})


def authentication_middleware(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or str(scope.get("path", "")).startswith(
            SELF_AUTHENTICATED
        ):
            scope["user"] = None
            await app(scope, receive, send)
            return
        state: Any = scope["litestar_app"].state
        principal = None
        authorization = _header(scope, b"authorization")
        if authorization:
            scheme, _, credential = authorization.partition(" ")
            if scheme.lower() != "bearer" or not credential.strip():
                raise Unauthorized("use 'Authorization: Bearer <API key or session token>'")
            credential = credential.strip()
            if credential.startswith(key_secrets.PREFIX):
                principal = await authenticate.from_api_key(
                    state.db, credential, state.api_key_cache
                )
            else:
                principal = await authenticate.from_session_token(
                    state.db, state.signer, credential, via_cookie=False
                )
        elif scope.get("path") not in COOKIES_IGNORED:
            cookies = _cookies(scope)
            token = cookies.get(authenticate.SESSION_COOKIE)
            if token:
                authenticate.check_csrf(
                    str(scope.get("method", "GET")),
                    cookies.get(authenticate.CSRF_COOKIE),
                    _header(scope, authenticate.CSRF_HEADER.encode()),
                )
                principal = await authenticate.from_session_token(
                    state.db, state.signer, token, via_cookie=True
                )
        scope["user"] = principal
        if principal is None:
            await app(scope, receive, send)
            return
        with tenancy.acting_as(principal.tenancy()):
            await app(scope, receive, send)

    return middleware

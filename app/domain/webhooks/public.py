"""Letting the public receiver through caller authentication.

Inbound webhooks authenticate with their verifier, and some verifiers use the ``Authorization``
header themselves (``basic``, ``api-key`` with ``Bearer``), which the API's authentication
middleware would otherwise read as Kiln credentials and refuse. ``create_app`` wraps that
middleware with :func:`bypass_for_receiver`; requests under :data:`PREFIX` reach the receiver
with no principal (the receiver acts as the webhook's tenant on its own).
"""

from __future__ import annotations

from collections.abc import Callable

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Receive, Scope, Send

PREFIX = "/hooks/"

Middleware = Callable[[ASGIApp], ASGIApp]


def bypass_for_receiver(authentication: Middleware) -> Middleware:
    def middleware(app: ASGIApp) -> ASGIApp:
        authenticated = authentication(app)

        async def call(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] == ScopeType.HTTP and scope["path"].startswith(PREFIX):
                scope["user"] = None
                await app(scope, receive, send)
            else:
                await authenticated(scope, receive, send)

        return call

    return middleware

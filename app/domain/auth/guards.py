"""Route guards: ``guards=[requires(Permission.MANAGE)]``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from app.core.errors import Forbidden, Unauthorized
from app.domain.auth.principal import Permission, Principal

Guard = Callable[[ASGIConnection[Any, Any, Any, Any], BaseRouteHandler], None]


def current_principal(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal:
    principal = connection.scope.get("user")
    if not isinstance(principal, Principal):
        raise Unauthorized("authentication required: send 'Authorization: Bearer <token>'")
    return principal


def requires(permission: Permission) -> Guard:
    def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        principal = current_principal(connection)
        if not principal.can(permission):
            held = principal.role or ",".join(principal.scopes)
            raise Forbidden(f"this action needs the '{permission}' permission ({held} lacks it)")

    return guard

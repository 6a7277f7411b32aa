"""The error answers every operation declares in the OpenAPI document.

Every error has one shape (:func:`app.core.errors.error_body`), declared once as the
``ErrorResponse`` component. Which statuses an operation declares follows from what it is, the
same way the API decides them at run time:

* every operation: 400 (malformed request), 401 (credentials present but wrong — or, for the
  self-authenticating ``/hooks/`` and ``/metrics``, their own check failed), 422 (a value breaks
  a rule), 500 (unexpected);
* 403 — the operation has guards (a role or API-key scope is required);
* 404 — the path names a resource;
* 409 — the operation changes state (a name already taken, a run not in a state that allows it);
* 413 — the operation takes a request body (``KILN_MAX_BODY_BYTES``, payload quotas);
* 429 — the operations a quota or throttle guards (:data:`THROTTLED`);
* extra statuses of single operations (:data:`EXTRA`).

The fuzz suite (tests/fuzz/test_api_schemathesis.py) checks every answer's status against what
its operation declares, so a rule that misses a status fails there.

Litestar's own default 400 (``{status_code, detail}``) is replaced: the API never answers it.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Litestar
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.datastructures import ResponseSpec
from litestar.routes import HTTPRoute

MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
WITH_BODY = frozenset({"POST", "PUT", "PATCH"})
THROTTLED = frozenset({
    "login",  # failed-login throttle
    "triggerRun", "triggerRuns", "spawnChildren",  # runs per minute, queued tasks
    "registerWorkflow", "createWebhook", "createAlertChannel",  # count quotas
})
# Statuses of single operations the rules above miss: a resource named in the body (a tenant, an
# invite, a workflow) that is not there is a 404; an expired invite is a 410.
EXTRA: dict[str, tuple[int, ...]] = {
    "acceptInvite": (404, 410), "switchTenant": (404,), "createCron": (404,),
    "createSchedule": (404,),
}


class ErrorDetail(msgspec.Struct, omit_defaults=True):
    code: Annotated[str, msgspec.Meta(description=(
        "Stable machine-readable reason: bad_request, unauthorized, forbidden, not_found, "
        "conflict, gone, payload_too_large, validation_error, rate_limited, internal_error"))]
    message: Annotated[str, msgspec.Meta(description="What went wrong, for a human")]
    details: Annotated[Any, msgspec.Meta(
        description="Per-field problems of a validation error, when there are any")] = None


class ErrorResponse(msgspec.Struct):
    """Every 4xx/5xx answer of the API."""

    error: ErrorDetail


DESCRIPTIONS = {
    400: "Malformed request (not JSON, a missing body, a bad header)",
    401: "Missing or wrong credentials",
    403: "The caller's role or API-key scopes do not allow this",
    404: "No such resource in the caller's tenant",
    409: "Conflicts with the current state (a name already taken, a run in the wrong state)",
    410: "No longer usable (an expired invite)",
    413: "Request body or run input larger than the limit",
    422: "A value breaks a rule (schema, format, a cycle in a DAG, a bad cron expression)",
    429: "A quota or throttle refused it; see the Retry-After header",
    500: "Unexpected server error",
}


def _statuses(route: HTTPRoute, handler: HTTPRouteHandler) -> set[int]:
    statuses = {400, 401, 422, 500}
    if handler.resolve_guards():
        statuses.add(403)
    if "{" in route.path_format:
        statuses.add(404)
    if handler.http_methods & MUTATING:
        statuses.add(409)
    if handler.http_methods & WITH_BODY:
        statuses.add(413)
    if handler.operation_id in THROTTLED:
        statuses.add(429)
    statuses.update(EXTRA.get(str(handler.operation_id), ()))
    return statuses


def declare(app: Litestar) -> None:
    """Add the error responses to every route handler of ``app`` (Litestar copies handlers per
    app, so this touches no other app). Call it before the document is first built."""
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            if "OPTIONS" in handler.http_methods and len(handler.http_methods) == 1:
                continue
            declared = dict(handler.responses or {})
            for status in sorted(_statuses(route, handler)):
                declared.setdefault(status, ResponseSpec(
                    data_container=ErrorResponse, description=DESCRIPTIONS[status],
                    generate_examples=False))
            handler.responses = declared

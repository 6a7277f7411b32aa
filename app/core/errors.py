"""Domain exceptions and the one place that turns any exception into a JSON error.

Every error body is ``{"error": {"code": "...", "message": "...", "details"?: ...}}``.
Services raise these; controllers never build error responses by hand.
"""

from __future__ import annotations

from typing import Any

import structlog
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

log = structlog.get_logger("kiln.errors")


class KilnError(Exception):
    """Base of every expected failure; ``status`` is the HTTP status it maps to."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, details: Any = None, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.message = message
        self.details = details
        self.headers = headers or {}


class Unauthorized(KilnError):
    status, code = 401, "unauthorized"


class Forbidden(KilnError):
    status, code = 403, "forbidden"


class NotFound(KilnError):
    status, code = 404, "not_found"


class Conflict(KilnError):
    status, code = 409, "conflict"


class Gone(KilnError):
    """Something that existed and can no longer be used (an expired invite)."""

    status, code = 410, "gone"


class PayloadTooLarge(KilnError):
    status, code = 413, "payload_too_large"


class Invalid(KilnError):
    """Well-formed JSON that breaks a rule (a cycle in a DAG, a bad cron expression…)."""

    status, code = 422, "validation_error"


class TooManyRequests(KilnError):
    status, code = 429, "rate_limited"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message, headers={"Retry-After": str(max(1, retry_after))})


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        error["details"] = details
    return {"error": error}


_HTTP_CODES = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 409: "conflict", 410: "gone", 413: "payload_too_large",
    415: "unsupported_media_type", 422: "validation_error", 429: "rate_limited",
}


def _kiln_error(_: Request[Any, Any, Any], exc: KilnError) -> Response[Any]:
    return Response(
        error_body(exc.code, exc.message, exc.details), status_code=exc.status, headers=exc.headers
    )


def _validation_error(_: Request[Any, Any, Any], exc: ValidationException) -> Response[Any]:
    # Litestar reports malformed or non-conforming bodies as 400; we answer 422 with the field list
    # for well-formed JSON that breaks the schema, 400 for unparseable JSON.
    details = exc.extra if isinstance(exc.extra, list) else None
    status = 422 if details else 400
    message = exc.detail or "request body is invalid"
    if details:
        first = details[0]
        message = f"{first.get('message', message)} ({first.get('key', 'body')})"
    return Response(error_body(_HTTP_CODES[status], message, details), status_code=status)


def _http_error(_: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    code = _HTTP_CODES.get(exc.status_code, "error")
    return Response(
        error_body(code, str(exc.detail)), status_code=exc.status_code, headers=exc.headers
    )


def _unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.exception("unhandled error", action="request.error", path=request.url.path)
    return Response(
        error_body("internal_error", "internal server error"),
        status_code=HTTP_500_INTERNAL_SERVER_ERROR,
    )


EXCEPTION_HANDLERS: dict[type[Exception] | int, Any] = {
    KilnError: _kiln_error,
    ValidationException: _validation_error,
    HTTPException: _http_error,
    Exception: _unexpected,
}

"""Domain exceptions and the one place that turns any exception into a JSON error.

Every error body is ``{"error": {"code": "...", "message": "...", "details"?: ...}}``.
Services raise these; controllers never build error responses by hand.
"""

from __future__ import annotations

from typing import Any

import asyncpg
import structlog
from litestar import Request, Response
from litestar.exceptions import HTTPException, SerializationException, ValidationException
from litestar.exceptions.http_exceptions import RequestEntityTooLarge
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
    # Litestar reports a body or parameter that breaks the schema with one entry per field; we
    # answer 422 naming the first field. A missing body shows up as a KeyError on ``data``.
    details = exc.extra if isinstance(exc.extra, list) else None
    if not details:
        return Response(error_body("bad_request", exc.detail or "request is invalid"),
                        status_code=400)
    first = details[0]
    if first.get("key") == "data" and first.get("message") == "'data'":
        return Response(error_body("bad_request", "request body is required: send a JSON object"),
                        status_code=400)
    where = first.get("key", "body")
    reason = str(first.get("message", "invalid value"))
    if "matching regex" in reason:  # msgspec quotes the raw pattern: say what it means instead
        reason = "Value does not have the expected format"
    message = f"{reason} ({'body' if where == 'data' else where})"
    return Response(error_body("validation_error", message, details), status_code=422)


def _http_error(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    code = _HTTP_CODES.get(exc.status_code, "error")
    message = str(exc.detail)
    if isinstance(exc.__cause__, SerializationException):
        message = f"request body is not valid JSON: {message}"
    elif isinstance(exc, RequestEntityTooLarge):
        limit = request.route_handler.resolve_request_max_body_size()
        message = f"request body is larger than the {limit}-byte limit"
    return Response(error_body(code, message), status_code=exc.status_code, headers=exc.headers)


def _refused_data(exc: BaseException) -> asyncpg.exceptions.DataError | None:
    """The Postgres data error (SQLSTATE class 22) behind ``exc``, if that is what it is —
    e.g. a NUL character, which neither text nor jsonb can hold. SQLAlchemy wraps the asyncpg
    exception a couple of levels deep."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, asyncpg.exceptions.DataError):
            return current
        seen.add(id(current))
        current = getattr(current, "orig", None) or current.__cause__
    return None


def _unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    refused = _refused_data(exc)
    if refused is not None:
        # Input the database cannot store: the transaction rolled back, nothing was written.
        return Response(error_body("validation_error", f"value refused: {refused.message}"),
                        status_code=422)
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

"""Every exception the SDK raises on purpose, each with a message that says what to do.

``KilnError`` is the base of all of them, so ``except kiln.KilnError`` catches anything the SDK
raises deliberately. ``NonRetryableError`` is different: task code raises it to tell the server
that retrying would not help.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class KilnError(Exception):
    """Base of every error the SDK raises deliberately."""


class ConfigurationError(KilnError):
    """The client is missing or has an invalid setting (API URL, API key, worker options)."""


class SerializationError(KilnError, TypeError):
    """A value that must travel as JSON (run input, task output, metadata) cannot be encoded."""


class ApiError(KilnError):
    """The server answered with an error status.

    ``status`` is the HTTP status, ``code`` the server's error code (``"validation_error"`` …) and
    ``server_message`` the server's own explanation.
    """

    def __init__(
        self, message: str, *, status: int, code: str | None = None,
        server_message: str | None = None, method: str = "", url: str = "",
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.server_message = server_message
        self.method = method
        self.url = url


class AuthenticationError(ApiError):
    """401: the server did not accept the API key (missing, mistyped, revoked or expired)."""


class PermissionDeniedError(ApiError):
    """403: the API key is valid but lacks a scope the route needs (``worker``, ``trigger`` …)."""


class NotFoundError(ApiError):
    """404: the workflow, run or worker does not exist (or belongs to another tenant)."""


class ValidationError(ApiError):
    """422: the request was well-formed but broke a rule (a cycle in a DAG, an unknown parent …)."""


class ServerUnavailableError(KilnError):
    """The server could not be reached, or kept answering 502/503/504, after every retry."""

    def __init__(self, message: str, *, url: str, attempts: int) -> None:
        super().__init__(message)
        self.url = url
        self.attempts = attempts


class RunFailedError(KilnError):
    """A run ended ``failed``; ``errors`` maps each failed task name to its error text."""

    def __init__(self, run_id: str, workflow: str, errors: Mapping[str, str],
                 run: Mapping[str, Any] | None = None) -> None:
        detail = "; ".join(f"{task}: {error}" for task, error in errors.items()) or "no error text"
        super().__init__(f"run {run_id} of workflow {workflow!r} failed: {detail}")
        self.run_id = run_id
        self.workflow = workflow
        self.errors = dict(errors)
        self.run = dict(run or {})


class RunCancelledError(KilnError):
    """A run ended ``cancelled`` while the caller was waiting for its result."""

    def __init__(self, run_id: str, workflow: str) -> None:
        super().__init__(f"run {run_id} of workflow {workflow!r} was cancelled")
        self.run_id = run_id
        self.workflow = workflow


class TaskCancelledError(KilnError):
    """Raised by ``ctx.check_cancelled()`` inside a sync task the server asked to stop."""


class NonRetryableError(Exception):
    """Raise from a task to fail it for good: the server will not retry this attempt.

    The failure result carries ``retryable: false``. Use it for errors a retry cannot fix, such as
    invalid input or a permanently rejected request to a third party.
    """


class InvalidInputError(KilnError, ValueError):
    """A task's input does not match the type its function annotates (a model or dataclass).

    The worker reports it as a failure that is not retried: the same input would fail again.
    """

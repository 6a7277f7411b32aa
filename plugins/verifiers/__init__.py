"""Built-in inbound webhook verifiers: one module per verifier, each implementing
``register_webhook_verifiers`` and listed in ``plugins.BUILTIN_PLUGINS``.

A verifier satisfies ``app.hooks.types.WebhookVerifier`` (``generate_secret()`` and a pure,
constant-time ``verify()``; see the hook's section in ``docs/plugins.md``). Two optional
methods, looked up by name, make a verifier fit Kiln's receiver better (``docs/triggers.md``):

* ``delivery_id(*, headers, body, config) -> str | None`` — the sender's id of a delivery,
  called only after ``verify`` accepted the request; a repeated id is rejected as a replay;
* ``validate_secret(secret) -> str | None`` — why a caller-supplied secret cannot work (None
  when it can), so a webhook is refused at creation rather than failing every delivery.

The helpers below are what the built-ins share.
"""

from __future__ import annotations

import hmac
import math
import secrets
from collections.abc import Mapping
from typing import Any

from app.hooks.types import VerificationResult

OK = VerificationResult(ok=True)
DEFAULT_TOLERANCE = 300
"""Seconds a signed timestamp may be away from now (either way) before it is stale."""

TOLERANCE_SCHEMA: dict[str, Any] = {
    "type": "integer", "minimum": 1, "maximum": 3600, "default": DEFAULT_TOLERANCE,
    "title": "Timestamp tolerance (seconds)",
    "description": "How far a signed timestamp may be from the server's clock.",
}
DELIVERY_HEADER_SCHEMA: dict[str, Any] = {
    "type": "string", "minLength": 1, "maxLength": 100, "pattern": "^[A-Za-z0-9-]+$",
    "default": "x-delivery-id", "title": "Delivery id header",
    "description": "Header carrying the sender's delivery id; a repeated id is rejected.",
}


def fail(reason: str) -> VerificationResult:
    return VerificationResult(ok=False, reason=reason)


def header(headers: Mapping[str, str], name: str) -> str | None:
    """A header's value (``headers`` are lower-cased by the receiver), None when absent/blank."""
    value = headers.get(name.lower())
    return value.strip() if value and value.strip() else None


def equal(a: str | bytes, b: str | bytes) -> bool:
    """Constant-time comparison of two secrets or digests."""
    left = a.encode() if isinstance(a, str) else a
    right = b.encode() if isinstance(b, str) else b
    return hmac.compare_digest(left, right)


def timestamp_problem(value: str | None, now: float, tolerance: float) -> str | None:
    """Why a signed Unix timestamp is unusable (missing, malformed, stale, future), or None."""
    if value is None:
        return "missing timestamp"
    try:
        seconds = float(value)
    except ValueError:
        return "malformed timestamp"
    if not math.isfinite(seconds):
        return "malformed timestamp"
    if seconds < now - tolerance:
        return "timestamp too old (replay window passed)"
    if seconds > now + tolerance:
        return "timestamp too far in the future"
    return None


def tolerance(config: Mapping[str, Any]) -> float:
    value = config.get("tolerance_seconds", DEFAULT_TOLERANCE)
    return float(value) if isinstance(value, int | float) else float(DEFAULT_TOLERANCE)


def token(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)


class SharedSecretVerifier:
    """What the generic verifiers (``api-key``, ``basic``, ``hmac-sha256``) have in common: a
    random URL-safe secret, and the delivery id read from the header the config names."""

    def generate_secret(self) -> str | None:
        return token()

    def delivery_id(
        self, *, headers: Mapping[str, str], body: bytes, config: Mapping[str, Any]
    ) -> str | None:
        return header(headers, str(config.get("delivery_id_header") or "x-delivery-id"))

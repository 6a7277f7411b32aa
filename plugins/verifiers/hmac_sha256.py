"""``hmac-sha256``: a generic HMAC-SHA256 signature in a header you choose.

Config: ``header`` (default ``x-signature``) holds the hex (or base64, ``encoding``) HMAC of the
body, optionally after a ``prefix`` such as ``sha256=``. With ``timestamp_header`` set, the signed
message is ``"<timestamp>.<body>"`` and the timestamp must be within ``tolerance_seconds``. The
delivery id comes from ``delivery_id_header`` (default ``x-delivery-id``) when the sender sends it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

from app.hooks import hookimpl
from app.hooks.types import VerificationResult, WebhookVerifier
from plugins.verifiers import (
    DELIVERY_HEADER_SCHEMA,
    OK,
    TOLERANCE_SCHEMA,
    SharedSecretVerifier,
    equal,
    fail,
    header,
    timestamp_problem,
    tolerance,
)

_HEADER = {"type": "string", "minLength": 1, "maxLength": 100, "pattern": "^[A-Za-z0-9-]+$"}


class HmacSha256(SharedSecretVerifier):
    name = "hmac-sha256"
    title = "HMAC-SHA256 (custom header)"
    config_schema: Mapping[str, Any] = {
        "type": "object",
        "properties": {
            "header": {**_HEADER, "default": "x-signature", "title": "Signature header"},
            "encoding": {"type": "string", "enum": ["hex", "base64"], "default": "hex"},
            "prefix": {"type": "string", "maxLength": 20, "default": "",
                       "title": "Prefix before the digest, e.g. sha256="},
            "timestamp_header": {**_HEADER, "title": "Signed timestamp header (optional)"},
            "tolerance_seconds": TOLERANCE_SCHEMA,
            "delivery_id_header": DELIVERY_HEADER_SCHEMA,
        },
        "additionalProperties": False,
    }

    def verify(
        self, *, headers: Mapping[str, str], body: bytes, secret: str | None,
        config: Mapping[str, Any], now: float,
    ) -> VerificationResult:
        name = str(config.get("header") or "x-signature")
        given = header(headers, name)
        if given is None:
            return fail(f"missing {name} header")
        message = body
        if timestamp_name := config.get("timestamp_header"):
            timestamp = header(headers, str(timestamp_name))
            if problem := timestamp_problem(timestamp, now, tolerance(config)):
                return fail(problem)
            message = f"{timestamp}.".encode() + body
        if not secret:
            return fail("the webhook has no secret")
        digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
        encoded = (base64.b64encode(digest).decode() if config.get("encoding") == "base64"
                   else digest.hex())
        prefix = str(config.get("prefix") or "")
        if prefix and given.startswith(prefix):
            given = given[len(prefix):]
        if config.get("encoding") != "base64":
            given = given.lower()
        return OK if equal(encoded, given) else fail("signature mismatch")


@hookimpl
def register_webhook_verifiers() -> list[WebhookVerifier]:
    return [HmacSha256()]

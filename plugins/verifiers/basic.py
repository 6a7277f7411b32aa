"""``basic``: HTTP Basic authentication (``Authorization: Basic base64(user:password)``).

The secret is the password; the user name is ``username`` in the config (default ``kiln``).
Both are compared in constant time, always both. The delivery id comes from
``delivery_id_header`` when the sender sends it."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any

from app.hooks import hookimpl
from app.hooks.types import VerificationResult, WebhookVerifier
from plugins.verifiers import DELIVERY_HEADER_SCHEMA, OK, SharedSecretVerifier, equal, fail, header


class Basic(SharedSecretVerifier):
    name = "basic"
    title = "HTTP Basic authentication"
    config_schema: Mapping[str, Any] = {
        "type": "object",
        "properties": {
            "username": {"type": "string", "minLength": 1, "maxLength": 100,
                         "pattern": "^[^:]+$", "default": "kiln"},
            "delivery_id_header": DELIVERY_HEADER_SCHEMA,
        },
        "additionalProperties": False,
    }

    def verify(
        self, *, headers: Mapping[str, str], body: bytes, secret: str | None,
        config: Mapping[str, Any], now: float,
    ) -> VerificationResult:
        value = header(headers, "authorization")
        if value is None:
            return fail("missing Authorization header")
        scheme, _, encoded = value.partition(" ")
        if scheme.lower() != "basic":
            return fail("authorization header is not 'Basic …'")
        try:
            decoded = base64.b64decode(encoded.strip(), validate=True).decode()
        except (binascii.Error, ValueError):
            return fail("malformed Basic credentials")
        user, sep, password = decoded.partition(":")
        if not sep:
            return fail("malformed Basic credentials")
        if not secret:
            return fail("the webhook has no secret")
        expected_user = str(config.get("username") or "kiln")
        user_ok = equal(expected_user, user)
        password_ok = equal(secret, password)
        return OK if user_ok and password_ok else fail("wrong user name or password")


@hookimpl
def register_webhook_verifiers() -> list[WebhookVerifier]:
    return [Basic()]

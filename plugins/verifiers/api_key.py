"""``api-key``: a shared key in a header (default ``x-api-key``; ``authorization`` takes
``Bearer <key>``). It authenticates the sender but does not sign the body: prefer a signing
verifier when the sender supports one. The delivery id comes from ``delivery_id_header``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.hooks import hookimpl
from app.hooks.types import VerificationResult, WebhookVerifier
from plugins.verifiers import DELIVERY_HEADER_SCHEMA, OK, SharedSecretVerifier, equal, fail, header


class ApiKey(SharedSecretVerifier):
    name = "api-key"
    title = "API key header"
    config_schema: Mapping[str, Any] = {
        "type": "object",
        "properties": {
            "header": {"type": "string", "minLength": 1, "maxLength": 100,
                       "pattern": "^[A-Za-z0-9-]+$", "default": "x-api-key"},
            "delivery_id_header": DELIVERY_HEADER_SCHEMA,
        },
        "additionalProperties": False,
    }

    def verify(
        self, *, headers: Mapping[str, str], body: bytes, secret: str | None,
        config: Mapping[str, Any], now: float,
    ) -> VerificationResult:
        name = str(config.get("header") or "x-api-key").lower()
        given = header(headers, name)
        if given is None:
            return fail(f"missing {name} header")
        if name == "authorization":
            scheme, _, given = given.partition(" ")
            if scheme.lower() != "bearer":
                return fail("authorization header is not 'Bearer <key>'")
            given = given.strip()
        if not secret:
            return fail("the webhook has no secret")
        return OK if equal(secret, given) else fail("wrong API key")


@hookimpl
def register_webhook_verifiers() -> list[WebhookVerifier]:
    return [ApiKey()]

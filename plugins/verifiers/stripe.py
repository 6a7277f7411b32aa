"""``stripe``: Stripe's webhook signatures.

``Stripe-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">[,v1=…]`` keyed by the
endpoint's ``whsec_…`` secret (the whole string is the key, as Stripe's libraries use it); the
timestamp must be within ±5 minutes by default. The delivery id is the event's ``id`` from the
body (``evt_…``), so a re-sent event is refused even with a fresh signature.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

from app.hooks import hookimpl
from app.hooks.types import VerificationResult, WebhookVerifier
from plugins.verifiers import (
    OK,
    TOLERANCE_SCHEMA,
    equal,
    fail,
    header,
    timestamp_problem,
    token,
    tolerance,
)


def _parse(value: str) -> tuple[str | None, list[str]]:
    timestamp, signatures = None, []
    for item in value.split(","):
        name, _, part = item.strip().partition("=")
        if name == "t":
            timestamp = part
        elif name == "v1" and part:
            signatures.append(part.lower())
    return timestamp, signatures


class Stripe:
    name = "stripe"
    title = "Stripe"
    config_schema: Mapping[str, Any] = {
        "type": "object",
        "properties": {"tolerance_seconds": TOLERANCE_SCHEMA},
        "additionalProperties": False,
    }

    def generate_secret(self) -> str | None:
        return "whsec_" + token(24)

    def verify(
        self, *, headers: Mapping[str, str], body: bytes, secret: str | None,
        config: Mapping[str, Any], now: float,
    ) -> VerificationResult:
        value = header(headers, "stripe-signature")
        if value is None:
            return fail("missing Stripe-Signature header")
        timestamp, signatures = _parse(value)
        if timestamp is None or not signatures:
            return fail("Stripe-Signature lacks t= or v1=")
        if problem := timestamp_problem(timestamp, now, tolerance(config)):
            return fail(problem)
        if not secret:
            return fail("the webhook has no secret")
        signed = timestamp.encode() + b"." + body
        expected = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
        matched = False
        for signature in signatures:
            matched |= equal(expected, signature)
        return OK if matched else fail("no matching v1 signature")

    def delivery_id(
        self, *, headers: Mapping[str, str], body: bytes, config: Mapping[str, Any]
    ) -> str | None:
        try:
            event = json.loads(body)
        except ValueError:
            event = None
        if isinstance(event, dict) and isinstance(event.get("id"), str) and event["id"]:
            return str(event["id"])[:255]
        # No event id: the signature itself identifies this signed request.
        return header(headers, "stripe-signature")


@hookimpl
def register_webhook_verifiers() -> list[WebhookVerifier]:
    return [Stripe()]

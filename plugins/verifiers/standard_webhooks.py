"""``standard-webhooks``: the Standard Webhooks spec (https://www.standardwebhooks.com).

Headers ``webhook-id``, ``webhook-timestamp`` (Unix seconds, within ±5 minutes by default) and
``webhook-signature``: space-separated ``v1,<base64 HMAC-SHA256>`` of ``"<id>.<timestamp>.<body>"``
keyed by the base64 part of a ``whsec_…`` secret. Several signatures may be sent while the
sender rotates its secret; one match is enough. The delivery id is ``webhook-id``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
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
    tolerance,
)

PREFIX = "whsec_"


def _key(secret: str) -> bytes | None:
    raw = secret.removeprefix(PREFIX)
    try:
        key = base64.b64decode(raw + "=" * (-len(raw) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None
    return key or None


class StandardWebhooks:
    name = "standard-webhooks"
    title = "Standard Webhooks"
    config_schema: Mapping[str, Any] = {
        "type": "object",
        "properties": {"tolerance_seconds": TOLERANCE_SCHEMA},
        "additionalProperties": False,
    }

    def generate_secret(self) -> str | None:
        return PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()

    def validate_secret(self, secret: str) -> str | None:
        if _key(secret) is None:
            return "a Standard Webhooks secret is 'whsec_' followed by base64"
        return None

    def verify(
        self, *, headers: Mapping[str, str], body: bytes, secret: str | None,
        config: Mapping[str, Any], now: float,
    ) -> VerificationResult:
        msg_id = header(headers, "webhook-id")
        timestamp = header(headers, "webhook-timestamp")
        signatures = header(headers, "webhook-signature")
        if msg_id is None or timestamp is None or signatures is None:
            return fail("missing webhook-id, webhook-timestamp or webhook-signature header")
        if problem := timestamp_problem(timestamp, now, tolerance(config)):
            return fail(problem)
        key = _key(secret or "")
        if key is None:
            return fail("the webhook's secret is not a valid whsec_ secret")
        signed = f"{msg_id}.{timestamp}.".encode() + body
        expected = hmac.new(key, signed, hashlib.sha256).digest()
        matched = False
        for candidate in signatures.split():
            version, _, value = candidate.partition(",")
            if version != "v1":
                continue
            try:
                given = base64.b64decode(value, validate=True)
            except (binascii.Error, ValueError):
                continue
            matched |= equal(expected, given)
        return OK if matched else fail("no matching v1 signature")

    def delivery_id(
        self, *, headers: Mapping[str, str], body: bytes, config: Mapping[str, Any]
    ) -> str | None:
        return header(headers, "webhook-id")


@hookimpl
def register_webhook_verifiers() -> list[WebhookVerifier]:
    return [StandardWebhooks()]

"""``github``: GitHub's webhook signatures.

``X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>`` keyed by the webhook secret; the
delivery id is ``X-GitHub-Delivery`` (required). GitHub signs no timestamp, so replays are caught
by the delivery id alone, for as long as deliveries are retained (``docs/triggers.md``).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

from app.hooks import hookimpl
from app.hooks.types import VerificationResult, WebhookVerifier
from plugins.verifiers import OK, equal, fail, header, token


class GitHub:
    name = "github"
    title = "GitHub"
    config_schema: Mapping[str, Any] = {
        "type": "object", "properties": {}, "additionalProperties": False,
    }

    def generate_secret(self) -> str | None:
        return token()

    def verify(
        self, *, headers: Mapping[str, str], body: bytes, secret: str | None,
        config: Mapping[str, Any], now: float,
    ) -> VerificationResult:
        signature = header(headers, "x-hub-signature-256")
        if signature is None:
            return fail("missing X-Hub-Signature-256 header")
        if header(headers, "x-github-delivery") is None:
            return fail("missing X-GitHub-Delivery header")
        if not secret:
            return fail("the webhook has no secret")
        expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        return OK if equal(expected, signature.lower()) else fail("signature mismatch")

    def delivery_id(
        self, *, headers: Mapping[str, str], body: bytes, config: Mapping[str, Any]
    ) -> str | None:
        return header(headers, "x-github-delivery")


@hookimpl
def register_webhook_verifiers() -> list[WebhookVerifier]:
    return [GitHub()]

"""Webhook: POSTs JSON signed per the Standard Webhooks spec (https://www.standardwebhooks.com).

Headers ``webhook-id`` (stable across the retries of one delivery: receivers deduplicate on it),
``webhook-timestamp`` (Unix seconds of the attempt) and ``webhook-signature``
(``v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">`` keyed by the channel's ``whsec_``
secret). Body: ``{"type": <event>, "timestamp": <ISO-8601>, "data": {…the alert…}}``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import time
from typing import Any

from app.core.egress import EgressError
from app.hooks import hookimpl
from app.hooks.types import AlertChannelType, DeliveryContext, DeliveryFailed, DeliveryResult
from plugins.alerts import http_outcome

SECRET_PREFIX = "whsec_"  # noqa: S105 (the format prefix, not a secret)

CONFIG_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "Webhook",
    "properties": {
        "url": {
            "type": "string", "format": "uri", "maxLength": 2000, "pattern": "^https?://",
            "title": "Endpoint URL", "description": "Receives a signed JSON POST per alert.",
        },
        "secret": {
            "type": "string", "writeOnly": True, "pattern": "^whsec_[A-Za-z0-9+/=]{24,}$",
            "title": "Signing secret",
            "description": "whsec_… (Standard Webhooks). Leave empty to have one generated; "
                           "it is shown once, in the response that creates the channel.",
        },
    },
    "required": ["url"],
    "additionalProperties": False,
}


def generate_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def sign(secret: str, webhook_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` header value for one attempt."""
    try:
        key = base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    except binascii.Error as exc:
        raise DeliveryFailed("the channel's signing secret is not valid base64") from exc
    signed = f"{webhook_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


class WebhookChannel:
    type = "webhook"
    title = "Webhook"
    description = "POST signed JSON (Standard Webhooks) to your endpoint."
    config_schema = CONFIG_SCHEMA

    def generate_config_secrets(self) -> dict[str, str]:
        """Secrets to fill in when a new channel's config leaves them out."""
        return {"secret": generate_secret()}

    async def send(self, context: DeliveryContext) -> DeliveryResult:
        alert = context.alert
        data = alert.to_json()
        data["message"] = {"title": context.message.title, "text": context.message.text}
        body = json.dumps(
            {"type": alert.event, "timestamp": alert.at.isoformat(), "data": data},
            separators=(",", ":"),
        ).encode()
        timestamp = int(time.time())
        headers = {
            "content-type": "application/json",
            "webhook-id": alert.webhook_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(context.config["secret"], alert.webhook_id, timestamp, body),
        }
        try:
            response = await context.egress.request(
                "POST", context.config["url"], content=body, headers=headers,
                deadline=context.deadline,
            )
        except EgressError as exc:
            raise DeliveryFailed(str(exc)) from None
        return http_outcome(response)


@hookimpl
def register_alert_channels() -> list[AlertChannelType]:
    return [WebhookChannel()]

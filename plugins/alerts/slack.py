"""Slack: posts to an incoming-webhook URL (which is itself the secret)."""

from __future__ import annotations

from typing import Any

from app.core.egress import EgressError
from app.hooks import hookimpl
from app.hooks.types import AlertChannelType, DeliveryContext, DeliveryFailed, DeliveryResult
from plugins.alerts import http_outcome

CONFIG_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "Slack",
    "properties": {
        "webhook_url": {
            "type": "string", "format": "uri", "writeOnly": True, "maxLength": 500,
            "title": "Incoming webhook URL",
            "description": "From Slack: Apps → Incoming Webhooks (https://hooks.slack.com/…).",
            "pattern": "^https?://",
        },
        "mention": {
            "type": "string", "maxLength": 100, "title": "Mention",
            "description": "Prepended to each message, e.g. <!here> or <@U123>.",
        },
    },
    "required": ["webhook_url"],
    "additionalProperties": False,
}


class SlackChannel:
    type = "slack"
    title = "Slack"
    description = "Post alerts to a Slack channel through an incoming webhook."
    config_schema = CONFIG_SCHEMA

    async def send(self, context: DeliveryContext) -> DeliveryResult:
        message = context.message
        text = f"*{message.title}*\n{message.text}"
        mention = context.config.get("mention")
        if mention:
            text = f"{mention} {text}"
        body = {
            "text": text,
            "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text[:2900]}}],
        }
        try:
            response = await context.egress.post_json(
                context.config["webhook_url"], body, deadline=context.deadline
            )
        except EgressError as exc:
            raise DeliveryFailed(str(exc)) from None
        return http_outcome(response)


@hookimpl
def register_alert_channels() -> list[AlertChannelType]:
    return [SlackChannel()]

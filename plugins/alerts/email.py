"""E-mail: sends a plain-text and HTML message through the deployment's SMTP server
(``KILN_SMTP_*``); each channel names its recipients."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

import aiosmtplib

from app.hooks import hookimpl
from app.hooks.types import AlertChannelType, DeliveryContext, DeliveryFailed, DeliveryResult

CONFIG_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "E-mail",
    "properties": {
        "to": {
            "type": "array", "title": "Recipients", "minItems": 1, "maxItems": 50,
            "items": {"type": "string", "format": "email", "maxLength": 254},
        },
        "subject_prefix": {
            "type": "string", "maxLength": 50, "title": "Subject prefix",
            "description": "Put in front of every subject, e.g. [prod].",
        },
    },
    "required": ["to"],
    "additionalProperties": False,
}


class EmailChannel:
    type = "email"
    title = "E-mail"
    description = "Send alerts by e-mail through the server's SMTP settings (KILN_SMTP_HOST…)."
    config_schema = CONFIG_SCHEMA

    async def send(self, context: DeliveryContext) -> DeliveryResult:
        smtp = context.smtp
        if not smtp.host:
            raise DeliveryFailed("SMTP is not configured on this server (set KILN_SMTP_HOST)")
        recipients = list(context.config["to"])
        prefix = context.config.get("subject_prefix")
        message = EmailMessage()
        message["From"] = smtp.sender
        message["To"] = ", ".join(recipients)
        title = context.message.title
        message["Subject"] = f"{prefix} {title}" if prefix else title
        message["Message-ID"] = make_msgid(idstring=context.alert.delivery_id)
        message["X-Kiln-Event"] = context.alert.event
        message.set_content(context.message.text)
        if context.message.html:
            message.add_alternative(context.message.html, subtype="html")
        try:
            errors, reply = await aiosmtplib.send(
                message, hostname=smtp.host, port=smtp.port, username=smtp.username,
                password=smtp.password, start_tls=smtp.starttls, timeout=context.deadline,
                recipients=recipients,
            )
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise DeliveryFailed(f"SMTP: {exc}") from None
        if errors:
            refused = ", ".join(sorted(errors))
            raise DeliveryFailed(f"SMTP refused some recipients: {refused}")
        return DeliveryResult(detail=reply[:200])


@hookimpl
def register_alert_channels() -> list[AlertChannelType]:
    return [EmailChannel()]

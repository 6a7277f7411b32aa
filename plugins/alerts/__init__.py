"""Built-in alert channel types: Slack, webhook (Standard Webhooks), e-mail."""

from __future__ import annotations

import datetime as dt
from email.utils import parsedate_to_datetime

from app.core.egress import EgressResponse
from app.hooks.types import DeliveryFailed, DeliveryResult


def retry_after_seconds(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header: delta-seconds or an HTTP date; None if absent."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds())


def http_outcome(response: EgressResponse) -> DeliveryResult:
    """A 2xx answer is a success; anything else raises :class:`DeliveryFailed` (410: gone)."""
    if response.ok:
        return DeliveryResult(status_code=response.status_code, detail=response.text[:200] or None)
    raise DeliveryFailed(
        f"HTTP {response.status_code}: {response.text[:200]}".rstrip(": "),
        status_code=response.status_code,
        retry_after=retry_after_seconds(response.headers.get("retry-after")),
        gone=response.status_code == 410,
    )

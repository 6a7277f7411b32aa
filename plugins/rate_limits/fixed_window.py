"""``fixed-window``: ``limit`` units per window, Hatchet's behaviour.

A window opens at the first request after the previous window closed and lasts
``window_seconds``; requests within it share ``limit`` units. Like every fixed window it can admit
up to twice the limit across a window boundary (the end of one and the start of the next);
``sliding-window`` never does."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.hooks import hookimpl
from app.hooks.types import RateLimitDecision, RateLimitStrategy
from plugins.rate_limits import BASE_SCHEMA_PROPERTIES, limit_and_window


class FixedWindow:
    name = "fixed-window"
    title = "Fixed window (limit per window, window opens at first use)"
    config_schema: Mapping[str, Any] = {
        "type": "object", "properties": dict(BASE_SCHEMA_PROPERTIES),
        "additionalProperties": False,
    }

    def decide(
        self, config: Mapping[str, Any], state: Mapping[str, Any] | None, now: float, cost: int
    ) -> tuple[RateLimitDecision, dict[str, Any]]:
        limit, window = limit_and_window(config)
        start, used = (float(state["start"]), int(state["used"])) if state else (now, 0)
        if now >= start + window:
            start, used = now, 0  # the previous window closed: this request opens a new one
        if used + cost <= limit:
            used += cost
            return RateLimitDecision(True, 0.0, limit - used), {"start": start, "used": used}
        retry = max(0.0, start + window - now)
        return RateLimitDecision(False, retry, limit - used), {"start": start, "used": used}


@hookimpl
def register_rate_limit_strategies() -> list[RateLimitStrategy]:
    return [FixedWindow()]

"""``sliding-window``: at most ``limit`` units in *any* window of ``window_seconds``.

The state is a log of admissions in buckets of 1/100 of the window; each admission is stamped
with the *end* of its bucket, so it is forgotten a little late, never early: the limit is never
exceeded, and a key keeps at most 101 buckets however large the limit."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from app.hooks import hookimpl
from app.hooks.types import RateLimitDecision, RateLimitStrategy
from plugins.rate_limits import BASE_SCHEMA_PROPERTIES, limit_and_window

BUCKETS = 100


class SlidingWindow:
    name = "sliding-window"
    title = "Sliding window (never more than the limit in any window)"
    config_schema: Mapping[str, Any] = {
        "type": "object", "properties": dict(BASE_SCHEMA_PROPERTIES),
        "additionalProperties": False,
    }

    def decide(
        self, config: Mapping[str, Any], state: Mapping[str, Any] | None, now: float, cost: int
    ) -> tuple[RateLimitDecision, dict[str, Any]]:
        limit, window = limit_and_window(config)
        grain = window / BUCKETS
        log = [(float(at), int(units)) for at, units in (state or {}).get("log", [])
               if float(at) + window > now]
        used = sum(units for _, units in log)
        if used + cost <= limit:
            stamp = math.ceil(now / grain) * grain
            if log and abs(log[-1][0] - stamp) < grain / 2:
                log[-1] = (log[-1][0], log[-1][1] + cost)
            elif cost:
                log.append((stamp, cost))
                log.sort()
            return (RateLimitDecision(True, 0.0, limit - used - cost),
                    {"log": [[at, units] for at, units in log]})
        retry = window
        freed = 0
        for at, units in log:  # oldest first: when will enough have expired?
            freed += units
            if used - freed + cost <= limit:
                retry = max(0.0, at + window - now)
                break
        return (RateLimitDecision(False, retry, max(0, limit - used)),
                {"log": [[at, units] for at, units in log]})


@hookimpl
def register_rate_limit_strategies() -> list[RateLimitStrategy]:
    return [SlidingWindow()]

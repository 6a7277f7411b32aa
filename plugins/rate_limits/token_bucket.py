"""``token-bucket``: a bucket of ``burst`` tokens (default: ``limit``), refilled continuously at
``limit / window_seconds`` tokens per second; a request takes ``cost`` tokens.

Bursts of up to ``burst`` pass at once, then the rate holds: over any span of ``d`` seconds at
most ``burst + limit * d / window_seconds`` units pass. Set ``burst`` to 1 for an even pace."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.hooks import hookimpl
from app.hooks.types import RateLimitDecision, RateLimitStrategy
from plugins.rate_limits import BASE_SCHEMA_PROPERTIES, limit_and_window


class TokenBucket:
    name = "token-bucket"
    title = "Token bucket (steady rate, bursts up to a capacity)"
    config_schema: Mapping[str, Any] = {
        "type": "object",
        "properties": {
            **BASE_SCHEMA_PROPERTIES,
            "burst": {"type": "integer", "minimum": 1,
                      "title": "Bucket capacity (default: the limit)"},
        },
        "additionalProperties": False,
    }

    def decide(
        self, config: Mapping[str, Any], state: Mapping[str, Any] | None, now: float, cost: int
    ) -> tuple[RateLimitDecision, dict[str, Any]]:
        limit, window = limit_and_window(config)
        capacity = int(config.get("burst") or limit)
        rate = limit / window
        if state:
            at = float(state["at"])
            tokens = min(float(capacity), float(state["tokens"]) + max(0.0, now - at) * rate)
            at = max(at, now)
        else:
            tokens, at = float(capacity), now
        if tokens + 1e-9 >= cost:
            tokens = max(0.0, tokens - cost)
            return RateLimitDecision(True, 0.0, int(tokens)), {"tokens": tokens, "at": at}
        retry = (cost - tokens) / rate if cost <= capacity else window
        return RateLimitDecision(False, retry, int(tokens)), {"tokens": tokens, "at": at}


@hookimpl
def register_rate_limit_strategies() -> list[RateLimitStrategy]:
    return [TokenBucket()]

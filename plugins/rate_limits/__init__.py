"""Built-in rate-limit strategies: one module per strategy, each implementing
``register_rate_limit_strategies`` and listed in ``plugins.BUILTIN_PLUGINS``.

A strategy satisfies ``app.hooks.types.RateLimitStrategy``: a pure ``decide(config, state, now,
cost)`` over stored state (see the hook's section in ``docs/plugins.md``). ``config`` always
carries ``limit`` (units per window) and ``window_seconds``, plus the limit's own settings.

* ``fixed-window`` — Hatchet's behaviour: ``limit`` units per window; a window opens at the first
  request after the previous one closed.
* ``token-bucket`` — a bucket of ``burst`` tokens (default ``limit``) refilled continuously at
  ``limit / window``.
* ``sliding-window`` — at most ``limit`` units in any window of ``window_seconds`` (a log of
  admissions in up to 100 buckets per window, rounded up so it never admits too many).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

BASE_SCHEMA_PROPERTIES: dict[str, Any] = {
    "limit": {"type": "integer", "minimum": 1, "title": "Units per window"},
    "window_seconds": {"type": "number", "exclusiveMinimum": 0, "title": "Window (seconds)"},
}


def limit_and_window(config: Mapping[str, Any]) -> tuple[int, float]:
    """The two parameters every strategy gets, checked."""
    limit, window = int(config["limit"]), float(config["window_seconds"])
    if limit < 1 or window <= 0:
        raise ValueError(f"a rate limit needs limit >= 1 and window_seconds > 0, got {limit} "
                         f"per {window}")
    return limit, window

"""Durations for task options: ``"30s"``, ``"5m"``, ``"1h30m"``, ``timedelta`` or seconds."""

from __future__ import annotations

import datetime as dt
import math
import re

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")
_HINT = "use seconds (30, 1.5), a timedelta, or a string like '250ms', '30s', '5m', '1h', '1h30m'"

Duration = str | int | float | dt.timedelta
"""What every duration option accepts."""


def parse(value: Duration) -> float:
    """Return ``value`` as a non-negative number of seconds.

    Raises ``ValueError`` for a malformed or negative duration and ``TypeError`` for a value of
    another type (a ``bool`` is refused: ``True`` seconds is almost certainly a mistake).
    """
    if isinstance(value, bool) or not isinstance(value, str | int | float | dt.timedelta):
        raise TypeError(f"invalid duration {value!r} ({type(value).__name__}): {_HINT}")
    if isinstance(value, dt.timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, str):
        seconds = _parse_text(value)
    else:
        seconds = float(value)
    if math.isnan(seconds) or math.isinf(seconds):
        raise ValueError(f"invalid duration {value!r}: must be a finite number of seconds")
    if seconds < 0:
        raise ValueError(f"invalid duration {value!r}: must not be negative")
    return seconds


def _parse_text(text: str) -> float:
    compact = text.strip().lower().replace(" ", "")
    if not compact:
        raise ValueError(f"invalid duration {text!r}: empty; {_HINT}")
    if compact.startswith("-"):
        raise ValueError(f"invalid duration {text!r}: must not be negative")
    try:
        return float(compact)  # a bare number means seconds, as it does for int and float
    except ValueError:
        pass
    position, total = 0, 0.0
    for match in _PART.finditer(compact):
        if match.start() != position:
            break
        total += float(match.group(1)) * _UNITS[match.group(2)]
        position = match.end()
    if position != len(compact):
        raise ValueError(f"invalid duration {text!r}: {_HINT}")
    return total

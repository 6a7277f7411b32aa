"""Structured log lines on the stdlib logger ``kiln``: ``action=<what> key=value …``.

The fields are also attached as ``record.kiln`` (a dict) for JSON log handlers.
"""

from __future__ import annotations

import logging
from typing import Any

logger = logging.getLogger("kiln")
logger.addHandler(logging.NullHandler())  # a library never configures logging for its host


def event(level: int, action: str, /, **fields: Any) -> None:
    """Log ``action`` with ``fields`` on the ``kiln`` logger at ``level``."""
    if not logger.isEnabledFor(level):
        return
    pairs = (f"{key}={_fmt(value)}" for key, value in fields.items())
    text = " ".join([f"action={action}", *pairs])
    logger.log(level, text, extra={"kiln": {"action": action, **fields}}, stacklevel=2)


def _fmt(value: Any) -> str:
    text = str(value)
    return repr(text) if (not text or " " in text or "=" in text) else text

"""Event keys, subscription patterns and filters: the pure rules of which workflow an event
starts.

A pattern is an event key where ``*`` matches any run of characters (``order:*`` matches
``order:created`` and ``order:paid:late``; ``*`` alone matches every key). A filter is a CEL
expression over ``payload``, ``metadata`` and ``key`` that must evaluate to ``true``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import cel
import structlog

from app.core.errors import Invalid

log = structlog.get_logger("kiln.events")

MAX_KEY = 255
_KEY = re.compile(r"^[^\s*]{1,255}$")
_PATTERN = re.compile(r"^[^\s]{1,255}$")
FILTER_VARIABLES = ("payload", "metadata", "key")


def check_key(key: str) -> str:
    """An event key: 1 to 255 characters, no whitespace and no ``*``."""
    if len(key) > MAX_KEY:
        raise Invalid(f"event key is {len(key)} characters long; the limit is {MAX_KEY}")
    if not _KEY.match(key):
        raise Invalid(f"event key {key!r} must be 1 to {MAX_KEY} characters without "
                      "whitespace or '*'")
    return key


def check_pattern(pattern: str) -> str:
    if not _PATTERN.match(pattern):
        raise Invalid(f"event pattern {pattern!r} must be 1 to {MAX_KEY} characters without "
                      "whitespace ('*' matches anything)")
    return pattern


@functools.lru_cache(maxsize=1024)
def _pattern_regex(pattern: str) -> re.Pattern[str]:
    return re.compile("".join(".*" if part == "*" else re.escape(part)
                              for part in re.split(r"(\*)", pattern)), re.DOTALL)


def matches(pattern: str, key: str) -> bool:
    if "*" not in pattern:
        return pattern == key
    return _pattern_regex(pattern).fullmatch(key) is not None


@functools.lru_cache(maxsize=1024)
def compile_expression(source: str, what: str = "event_filter") -> cel.Program:
    """Compile a CEL expression, or raise :class:`Invalid` naming ``what`` and the error."""
    try:
        return cel.compile(source)
    except (ValueError, RuntimeError) as exc:
        message = str(exc).split("\n", 1)[0]
        raise Invalid(f"{what} {source!r} is not a valid CEL expression: {message}") from None


def check_filter(source: str) -> str:
    if not source.strip():
        raise Invalid("event_filter must not be empty")
    if len(source) > 2000:
        raise Invalid("event_filter must be at most 2000 characters")
    compile_expression(source)
    return source


def passes(source: str, key: str, payload: Any, metadata: Mapping[str, Any]) -> bool:
    """Evaluate a filter; an error or a non-boolean result counts as "does not match"."""
    try:
        result = compile_expression(source).execute(
            {"payload": payload, "metadata": dict(metadata), "key": key})
    except Exception as exc:  # a user's expression may fail in many ways
        log.info("event filter failed", action="event.filter_error", key=key, error=str(exc))
        return False
    return result is True


@dataclass(frozen=True, slots=True)
class Subscription:
    workflow: str
    pattern: str
    filter: str | None


def workflows_for(
    subscriptions: list[Subscription], key: str, payload: Any, metadata: Mapping[str, Any]
) -> list[str]:
    """Names of the workflows an event starts, each once, in subscription order."""
    chosen: list[str] = []
    for sub in subscriptions:
        if sub.workflow in chosen or not matches(sub.pattern, key):
            continue
        if sub.filter is None or passes(sub.filter, key, payload, metadata):
            chosen.append(sub.workflow)
    return chosen

"""The pure rules of durable waits: parsing a wait's conditions, matching an event against them,
and deciding (at a given database time) whether the wait is satisfied and when to look again.

A wait is ``any_of`` or ``all_of`` a list of conditions, each ``{"sleep_until": ts}`` or
``{"event": key, "filter"?: CEL, "scope"?: str}``; a wait may also carry a timeout. ``matched``
holds one entry per condition, ``None`` until that condition is met.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from app.core.errors import Invalid
from app.domain.events import matching

MAX_CONDITIONS = 20


@dataclass(slots=True)
class Verdict:
    matched: list[Any]
    satisfied: bool
    result: dict[str, Any] | None
    """What the durable call returns once satisfied: ``{"timed_out", "matched"}``."""
    wake_at: dt.datetime | None
    event_keys: list[str]


def _iso(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).isoformat()


def parse(raw: Mapping[str, Any], now: dt.datetime) -> tuple[str, list[dict[str, Any]]]:
    """Check a wait's conditions and fix relative sleeps to absolute times (once, at the first
    registration: a replay reads the stored wait); return (mode, conditions)."""
    modes = [m for m in ("any_of", "all_of") if m in raw]
    if len(modes) != 1 or set(raw) != set(modes):
        raise Invalid("conditions must be {\"any_of\": [...]} or {\"all_of\": [...]}")
    items = raw[modes[0]]
    if not isinstance(items, list) or not 1 <= len(items) <= MAX_CONDITIONS:
        raise Invalid(f"conditions need 1 to {MAX_CONDITIONS} items")
    parsed = []
    for index, item in enumerate(items):
        where = f"condition {index}"
        if not isinstance(item, Mapping):
            raise Invalid(f"{where} must be an object")
        if set(item) == {"sleep_for"}:
            seconds = item["sleep_for"]
            if isinstance(seconds, bool) or not isinstance(seconds, int | float) \
                    or not 0 <= seconds <= 365 * 86400:
                raise Invalid(f"{where}: sleep_for must be 0 to 365 days in seconds")
            parsed.append({"sleep_until": _iso(now + dt.timedelta(seconds=seconds))})
        elif set(item) == {"sleep_until"}:
            try:
                until = dt.datetime.fromisoformat(str(item["sleep_until"]))
            except ValueError:
                raise Invalid(f"{where}: sleep_until must be an ISO-8601 time") from None
            if until.tzinfo is None:
                raise Invalid(f"{where}: sleep_until needs a time zone (e.g. +00:00)")
            parsed.append({"sleep_until": _iso(until)})
        elif "event" in item and set(item) <= {"event", "filter", "scope"}:
            key = matching.check_key(str(item["event"]))
            condition: dict[str, Any] = {"event": key}
            if item.get("filter") is not None:
                condition["filter"] = matching.check_filter(str(item["filter"]))
            if item.get("scope") is not None:
                scope = str(item["scope"])
                if not 1 <= len(scope) <= 255:
                    raise Invalid(f"{where}: scope must be 1 to 255 characters")
                condition["scope"] = scope
            parsed.append(condition)
        else:
            raise Invalid(f"{where} must be {{\"sleep_for\"}}, {{\"sleep_until\"}} or "
                          "{\"event\", \"filter\"?, \"scope\"?}")
    return ("any" if modes[0] == "any_of" else "all"), parsed


def event_keys(conditions: list[dict[str, Any]]) -> list[str]:
    return sorted({c["event"] for c in conditions if "event" in c})


def apply_event(
    conditions: list[dict[str, Any]], matched: list[Any], event: Mapping[str, Any]
) -> bool:
    """Mark the open event conditions that ``event`` (id, key, payload, metadata, created_at)
    meets; True if any. The scope is the event's ``metadata.scope``."""
    hit = False
    metadata = event["metadata"] or {}
    for index, condition in enumerate(conditions):
        if matched[index] is not None or condition.get("event") != event["key"]:
            continue
        if "scope" in condition and str(metadata.get("scope")) != condition["scope"]:
            continue
        if "filter" in condition and not matching.passes(
                condition["filter"], event["key"], event["payload"], metadata):
            continue
        matched[index] = {"event": {
            "id": str(event["id"]), "key": event["key"], "payload": event["payload"],
            "metadata": dict(metadata), "created_at": _iso(event["created_at"])}}
        hit = True
    return hit


def evaluate(
    mode: str, conditions: list[dict[str, Any]], matched: list[Any], now: dt.datetime,
    timeout_at: dt.datetime | None,
) -> Verdict:
    """Meet the sleeps that are due at ``now`` and decide whether the wait is satisfied."""
    matched = list(matched)
    timers: list[dt.datetime] = []
    for index, condition in enumerate(conditions):
        if "sleep_until" in condition and matched[index] is None:
            until = dt.datetime.fromisoformat(condition["sleep_until"])
            if until <= now:
                matched[index] = {"slept_until": condition["sleep_until"]}
            else:
                timers.append(until)
    met = [m is not None for m in matched]
    satisfied = any(met) if mode == "any" else all(met)
    timed_out = not satisfied and timeout_at is not None and timeout_at <= now
    if timeout_at is not None and not timed_out:
        timers.append(timeout_at)
    done = satisfied or timed_out
    return Verdict(
        matched=matched, satisfied=done,
        result={"timed_out": timed_out, "matched": matched} if done else None,
        wake_at=None if done or not timers else min(timers),
        event_keys=[] if done else sorted({c["event"] for c, m in zip(conditions, matched,
                                                                    strict=True)
                                           if "event" in c and m is None}),
    )


def describe(mode: str, conditions: list[dict[str, Any]], timeout_at: dt.datetime | None) -> str:
    """The ``waiting_for`` text of a suspended task."""
    parts = []
    for condition in conditions:
        if "sleep_until" in condition:
            parts.append(f"sleep until {condition['sleep_until']}")
        else:
            text = f"event {condition['event']!r}"
            if "scope" in condition:
                text += f" (scope {condition['scope']!r})"
            if "filter" in condition:
                text += f" where {condition['filter']}"
            parts.append(text)
    text = (" or " if mode == "any" else " and ").join(parts)
    if timeout_at is not None:
        text += f" (timeout at {_iso(timeout_at)})"
    return "durable " + ("sleep: " if all("sleep_until" in c for c in conditions) else "wait: ") \
        + text

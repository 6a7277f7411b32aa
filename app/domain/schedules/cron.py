"""Cron expressions: strict 5-field parsing (cronsim), IANA time zones, DST-correct fire times.

Times are computed in the cron's zone and stored in UTC. DST follows Debian cron, as cronsim
does: a job at a fixed local time that falls in a spring-forward gap runs at the first valid
minute after it (``30 2 * * *`` runs at 03:00 that day); one that falls in a fall-back overlap
runs once, at the first occurrence. Jobs with a wildcard minute or hour run on real elapsed
time (``0 * * * *`` runs every hour, 25 times on a fall-back day).
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import zoneinfo

from cronsim import CronSim, CronSimError

from app.core.errors import Invalid

MAX_EXPRESSION = 255


@functools.lru_cache(maxsize=512)
def zone(name: str) -> zoneinfo.ZoneInfo:
    """The IANA zone ``name`` (``Europe/Paris``, ``UTC``); :class:`Invalid` if unknown."""
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        raise Invalid(f"unknown time zone {name!r}: use an IANA name such as 'Europe/Paris' "
                      "or 'UTC'") from None


_ONE_VALUE_STEP = re.compile(r"(?P<a>\w+)-(?P<b>\w+)/\d+")


def validate(expression: str, timezone: str = "UTC") -> str:
    """Check a 5-field cron expression (and its zone); return it normalised (single spaces)."""
    fields = expression.split()
    if not 0 < len(expression) <= MAX_EXPRESSION:
        raise Invalid(f"cron expression must be 1 to {MAX_EXPRESSION} characters")
    if len(fields) != 5:
        raise Invalid(f"invalid cron expression {expression!r}: expected 5 fields (minute hour "
                      f"day-of-month month day-of-week), got {len(fields)}")
    normalised = " ".join(fields)
    for field in fields:
        # cronsim reads a one-value range with a step ("1-1/1") as "1/1" (to the field's end);
        # cron means the single value. Refuse it rather than fire at the wrong times.
        for part in field.split(","):
            if (match := _ONE_VALUE_STEP.fullmatch(part)) and match["a"] == match["b"]:
                raise Invalid(f"invalid cron expression {expression!r}: {part!r} is a one-value "
                              f"range with a step; write {match['a']!r}")
    tz = zone(timezone)
    try:
        next_after(normalised, timezone, dt.datetime.now(dt.UTC).astimezone(tz))
    except CronSimError as exc:
        raise Invalid(f"invalid cron expression {expression!r}: {exc}") from None
    except StopIteration:
        raise Invalid(f"cron expression {expression!r} never fires") from None
    return normalised


def next_after(expression: str, timezone: str, after: dt.datetime) -> dt.datetime:
    """The first fire time strictly after ``after`` (aware), in UTC.

    cronsim works on local wall-clock time for fixed-time jobs, so starting inside a fall-back
    overlap can yield the earlier occurrence again: skip results that are not strictly later.
    """
    tz = zone(timezone)
    it = CronSim(expression, after.astimezone(tz))
    while True:
        fire = next(it).astimezone(dt.UTC)
        if fire > after:
            return fire


def upcoming(expression: str, timezone: str, after: dt.datetime, count: int) -> list[dt.datetime]:
    """The next ``count`` fire times after ``after``, in UTC."""
    times: list[dt.datetime] = []
    cursor = after
    for _ in range(count):
        try:
            cursor = next_after(expression, timezone, cursor)
        except (CronSimError, StopIteration):
            break
        times.append(cursor)
    return times

"""Properties of the cron parser and fire-time computation (app/domain/schedules/cron.py):
any text is either a valid normalised expression or refused with Invalid (never another error),
and valid expressions fire strictly later, at times that match every field, with no matching
minute skipped; in zones with DST, fire times still strictly increase and wildcard-minute jobs
keep real elapsed time."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.core.errors import Invalid
from app.domain.schedules import cron

SETTINGS = settings(max_examples=150, deadline=dt.timedelta(seconds=5), derandomize=True)
FIELDS = [(0, 59), (0, 23), (1, 31), (1, 12), (0, 6)]  # minute hour day month weekday
DST_ZONES = ["Europe/Paris", "America/New_York", "Australia/Lord_Howe", "Pacific/Chatham",
             "America/Santiago", "UTC"]
instants = st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2090, 1, 1),
                        timezones=st.just(dt.UTC))


@st.composite
def field(draw: st.DrawFn, low: int, high: int) -> tuple[str, set[int]]:
    """One cron field and the values it allows: *, n, a-b, */s, a-b/s, or a list of those."""
    def part() -> tuple[str, set[int]]:
        kind = draw(st.sampled_from(["star", "value", "range", "step", "range-step"]))
        if kind == "star":
            return "*", set(range(low, high + 1))
        a = draw(st.integers(low, high))
        if kind == "value" or a == high:
            return str(a), {a}
        # a < b: cronsim reads "a-a/s" as "a/s" (see test_a_one_value_range_with_a_step)
        b = draw(st.integers(a + 1, high))
        step = draw(st.integers(1, max(1, high - low)))
        if kind == "range":
            return f"{a}-{b}", set(range(a, b + 1))
        if kind == "step":
            return f"*/{step}", set(range(low, high + 1, step))
        return f"{a}-{b}/{step}", set(range(a, b + 1, step))
    parts = [part() for _ in range(draw(st.integers(1, 3)))]
    return ",".join(text for text, _ in parts), set().union(*(values for _, values in parts))


@st.composite
def expressions(draw: st.DrawFn) -> tuple[str, list[set[int]], list[bool]]:
    fields = [draw(field(low, high)) for low, high in FIELDS]
    # As in Vixie/Debian cron, a day field *starting with* "*" (even "*/2" or "*,1") counts as
    # unrestricted for the day-of-month/day-of-week OR rule.
    return (" ".join(text for text, _ in fields), [values for _, values in fields],
            [text.startswith("*") for text, _ in fields])


def matches(moment: dt.datetime, allowed: list[set[int]], star: list[bool]) -> bool:
    minutes, hours, days, months, weekdays = allowed
    weekday = (moment.weekday() + 1) % 7  # cron: 0 = Sunday
    if star[2] or star[4]:  # either one unrestricted: both must match
        day_ok = moment.day in days and weekday in weekdays
    else:  # both restricted: either may match (classic cron)
        day_ok = moment.day in days or weekday in weekdays
    return (moment.minute in minutes and moment.hour in hours and moment.month in months
            and day_ok)


@SETTINGS
@given(st.text(max_size=60), st.sampled_from([*DST_ZONES, "Mars/Olympus", ""]))
def test_any_text_is_valid_or_refused_with_invalid(text: str, zone: str) -> None:
    try:
        normalised = cron.validate(text, zone)
    except Invalid:
        return
    assert normalised == " ".join(text.split())
    assert cron.validate(normalised, zone) == normalised


@SETTINGS
@given(expressions(), st.sampled_from([" ", "  ", "\t"]))
def test_generated_expressions_are_valid(expression, separator: str) -> None:  # type: ignore[no-untyped-def]
    text, _, _ = expression
    try:
        normalised = cron.validate(text.replace(" ", separator), "UTC")
    except Invalid as exc:
        refusal = exc.message
    else:
        assert normalised == text
        return
    # The only well-formed expressions refused are days that never come (Feb 30…).
    assert "never fires" in refusal or "day" in refusal.lower(), refusal


@SETTINGS
@given(expressions(), instants)
def test_the_next_fire_time_matches_and_skips_nothing(expression, after: dt.datetime) -> None:  # type: ignore[no-untyped-def]
    text, allowed, star = expression
    try:
        fire = cron.next_after(text, "UTC", after)
    except StopIteration:
        return  # never fires (checked by validate)
    assert fire > after
    assert fire.second == 0
    assert matches(fire, allowed, star), f"{text!r} fired at {fire}"
    # Nothing in between would have matched (checked minute by minute up to two days).
    cursor = after.replace(second=0, microsecond=0) + dt.timedelta(minutes=1)
    for _ in range(2 * 24 * 60):
        if cursor >= fire:
            break
        assert not matches(cursor, allowed, star), f"{text!r} skipped {cursor} (fired {fire})"
        cursor += dt.timedelta(minutes=1)


@SETTINGS
@given(expressions(), instants, st.sampled_from(DST_ZONES))
def test_fire_times_strictly_increase_in_any_zone(expression, after: dt.datetime,  # type: ignore[no-untyped-def]
                                                  zone: str) -> None:
    text, _, _ = expression
    times = cron.upcoming(text, zone, after, 12)
    assert all(t.tzinfo is not None for t in times)
    assert all(a < b for a, b in itertools.pairwise([after, *times])), times


@SETTINGS
@given(st.sampled_from([1, 5, 15, 30]), instants, st.sampled_from(DST_ZONES))
def test_a_wildcard_minute_job_keeps_real_elapsed_time(step: int, after: dt.datetime,
                                                       zone: str) -> None:
    times = cron.upcoming(f"*/{step} * * * *", zone, after, 200)
    gaps = {b - a for a, b in itertools.pairwise(times)}
    assert gaps == {dt.timedelta(minutes=step)}, sorted(gaps)


@pytest.mark.parametrize(("year", "zone"), [(2026, "Europe/Paris"), (2026, "America/New_York")])
def test_hourly_jobs_run_every_real_hour_across_both_dst_changes(year: int, zone: str) -> None:
    start = dt.datetime(year, 1, 1, tzinfo=dt.UTC)
    times = cron.upcoming("0 * * * *", zone, start, 366 * 24)
    gaps = {b - a for a, b in itertools.pairwise(times)}
    # Zones whose offset is a whole number of hours: local minute 0 is every real hour.
    assert gaps == {dt.timedelta(hours=1)}, sorted(gaps)


@pytest.mark.parametrize("expression", ["0 9 * * 1-1/1", "5-5/1 * * * *", "0 1,3-3/2 * * *"])
def test_a_one_value_range_with_a_step_is_refused(expression: str) -> None:
    # cronsim 2.8 reads "a-a/s" as "a/s" (a to the field's maximum): "0 9 * * 1-1/1" would fire
    # every day instead of on Mondays. Refusing it beats firing at the wrong times.
    with pytest.raises(Invalid, match="one-value range with a step"):
        cron.validate(expression)

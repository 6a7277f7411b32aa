"""Cron parsing and fire-time arithmetic (no database): strict 5 fields, IANA zones, DST, and
the missed-tick policy of the ticker."""

from __future__ import annotations

import datetime as dt

import pytest

from app.core.errors import Invalid
from app.domain.schedules import cron
from app.domain.schedules.firing import GRACE, plan_tick

UTC = dt.UTC


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(("expression", "normalised"), [
    ("* * * * *", "* * * * *"),
    ("  */5   0-6  * JAN-MAR MON,FRI ", "*/5 0-6 * JAN-MAR MON,FRI"),
    ("0 9 L * *", "0 9 L * *"),
])
def test_valid_expressions_are_normalised(expression, normalised):
    assert cron.validate(expression) == normalised


@pytest.mark.parametrize(("expression", "says"), [
    ("* * * *", "expected 5 fields"),
    ("0 * * * * *", "expected 5 fields"),  # cronsim takes seconds; Kiln's crons do not
    ("", "1 to 255"),
    ("60 * * * *", "Bad minute"),
    ("* 24 * * *", "Bad hour"),
    ("* * 32 * *", "Bad day-of-month"),
    ("* * * 13 *", "Bad month"),
    ("* * * * 8", "Bad day-of-week"),
    ("0 0 30 2 *", "Bad day-of-month"),  # February 30th never comes
    ("@hourly x y z w", "Bad minute"),
])
def test_invalid_expressions_are_refused_naming_the_problem(expression, says):
    with pytest.raises(Invalid, match=says):
        cron.validate(expression)


@pytest.mark.parametrize("name", ["Mars/Olympus", "../../etc/passwd", "", "utc+2"])
def test_unknown_time_zones_are_refused(name):
    with pytest.raises(Invalid, match="unknown time zone"):
        cron.validate("* * * * *", name)


def test_known_zones_pass():
    for name in ("UTC", "Europe/Paris", "America/New_York", "Asia/Kolkata"):
        assert cron.validate("0 9 * * *", name)


def test_next_after_is_strictly_later_and_in_utc():
    assert cron.next_after("* * * * *", "UTC", utc(2030, 1, 1, 0, 0)) == utc(2030, 1, 1, 0, 1)
    assert cron.next_after("0 9 * * *", "Asia/Kolkata", utc(2030, 1, 1)) == utc(
        2030, 1, 1, 3, 30)


def test_a_fixed_time_in_a_fall_back_overlap_runs_once():
    # 01:30 New York happens at 05:30Z (EDT) and again at 06:30Z (EST) on 2026-11-01.
    first = cron.next_after("30 1 * * *", "America/New_York", utc(2026, 11, 1, 5, 0))
    assert first == utc(2026, 11, 1, 5, 30)
    # Asked from inside the overlap (01:00 EST), it must not go back to the earlier 01:30.
    assert cron.next_after("30 1 * * *", "America/New_York", utc(2026, 11, 1, 6, 0)) == utc(
        2026, 11, 2, 6, 30)


def test_a_fixed_time_in_a_spring_forward_gap_runs_at_the_first_valid_minute():
    assert cron.next_after("30 2 * * *", "America/New_York", utc(2026, 3, 8, 0)) == utc(
        2026, 3, 8, 7, 0)


def test_every_30_minutes_across_fall_back_follows_real_time():
    times = cron.upcoming("*/30 * * * *", "America/New_York", utc(2026, 11, 1, 5, 0), 4)
    assert times == [utc(2026, 11, 1, 5, 30), utc(2026, 11, 1, 6, 0), utc(2026, 11, 1, 6, 30),
                     utc(2026, 11, 1, 7, 0)]


class TestMissedTicks:
    def test_an_on_time_tick_fires(self):
        due = utc(2030, 1, 1, 12, 0)
        assert plan_tick("* * * * *", "UTC", due, due, "run_once") == (
            due, 0, utc(2030, 1, 1, 12, 1))

    def test_run_once_coalesces_missed_ticks_into_the_latest(self):
        due = utc(2030, 1, 1, 12, 0)
        now = utc(2030, 1, 1, 12, 10, 30)
        assert plan_tick("* * * * *", "UTC", due, now, "run_once") == (
            utc(2030, 1, 1, 12, 10), 10, utc(2030, 1, 1, 12, 11))

    def test_skip_drops_ticks_older_than_the_grace(self):
        due = utc(2030, 1, 1, 12, 0)
        late = due + GRACE + dt.timedelta(seconds=1)
        assert plan_tick("0 * * * *", "UTC", due, late, "skip") == (
            None, 1, utc(2030, 1, 1, 13, 0))
        assert plan_tick("0 * * * *", "UTC", due, due + GRACE, "skip")[0] == due

    def test_a_very_long_outage_jumps_to_the_present(self):
        due = utc(2020, 1, 1)
        now = utc(2030, 1, 1, 0, 0, 30)
        tick, skipped, following = plan_tick("* * * * *", "UTC", due, now, "run_once")
        assert tick is not None
        assert tick < now
        assert skipped == 10_000
        assert following == utc(2030, 1, 1, 0, 1)

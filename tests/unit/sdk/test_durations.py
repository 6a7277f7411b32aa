from __future__ import annotations

import datetime as dt

import pytest
from kiln import durations


@pytest.mark.parametrize(("value", "seconds"), [
    ("30s", 30.0), ("5m", 300.0), ("1h", 3600.0), ("1d", 86400.0), ("250ms", 0.25),
    ("1h30m", 5400.0), ("1m 30s", 90.0), ("1.5s", 1.5), (" 2H ", 7200.0), ("45", 45.0),
    ("0s", 0.0), (30, 30.0), (2.5, 2.5), (0, 0.0), (dt.timedelta(minutes=2), 120.0),
])
def test_parses_every_accepted_form(value, seconds):
    assert durations.parse(value) == seconds


@pytest.mark.parametrize(("value", "message"), [
    ("", "empty"),
    ("abc", "like '250ms', '30s'"),
    ("30x", "invalid duration '30x'"),
    ("s30", "invalid duration 's30'"),
    ("1h30", "invalid duration '1h30'"),
    ("-5s", "must not be negative"),
    (-1, "must not be negative"),
    (dt.timedelta(seconds=-3), "must not be negative"),
    (float("nan"), "finite"),
    (float("inf"), "finite"),
    ("inf", "finite"),
])
def test_rejects_malformed_durations_with_a_clear_value_error(value, message):
    with pytest.raises(ValueError, match="invalid duration") as info:
        durations.parse(value)
    assert message in str(info.value)


@pytest.mark.parametrize("value", [True, None, [30], {"s": 1}])
def test_rejects_other_types_with_a_type_error(value):
    with pytest.raises(TypeError, match="invalid duration"):
        durations.parse(value)

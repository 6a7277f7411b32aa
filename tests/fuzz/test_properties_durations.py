"""Properties of the SDK's duration parser (sdk/kiln/durations.py): numbers, timedeltas and
unit strings mean what they say, and any other input fails with ValueError or TypeError only."""

from __future__ import annotations

import datetime as dt
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from kiln import durations

SETTINGS = settings(max_examples=300, deadline=None, derandomize=True)
UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
finite = st.floats(min_value=0, max_value=1e12, allow_nan=False, allow_infinity=False)
amounts = st.one_of(st.integers(0, 10_000).map(str),
                    st.decimals(0, 10_000, places=3).map(lambda d: format(d, "f")))


@SETTINGS
@given(finite)
def test_a_non_negative_number_is_seconds(seconds: float) -> None:
    assert durations.parse(seconds) == seconds
    assert durations.parse(repr(seconds)) == seconds


@SETTINGS
@given(st.integers(0, 10**9))
def test_an_int_is_seconds(seconds: int) -> None:
    assert durations.parse(seconds) == float(seconds)
    assert durations.parse(str(seconds)) == float(seconds)


@SETTINGS
@given(st.timedeltas(min_value=dt.timedelta(0), max_value=dt.timedelta(days=3650)))
def test_a_timedelta_is_its_total_seconds(delta: dt.timedelta) -> None:
    assert durations.parse(delta) == delta.total_seconds()


@SETTINGS
@given(st.lists(st.tuples(amounts, st.sampled_from(sorted(UNITS))), min_size=1, max_size=5),
       st.booleans(), st.booleans())
def test_unit_parts_add_up(parts: list[tuple[str, str]], spaced: bool, upper: bool) -> None:
    text = (" " if spaced else "").join(f"{amount}{unit}" for amount, unit in parts)
    text = text.upper() if upper else text
    expected = sum(float(amount) * UNITS[unit] for amount, unit in parts)
    assert math.isclose(durations.parse(f" {text} "), expected, rel_tol=1e-9, abs_tol=1e-9)


@SETTINGS
@given(st.floats(max_value=-1e-9, allow_nan=False) | st.integers(max_value=-1))
def test_a_negative_duration_is_refused(seconds: float) -> None:
    with pytest.raises(ValueError, match=r"negative|finite"):
        durations.parse(seconds)
    with pytest.raises(ValueError, match=r"negative|finite|invalid"):
        durations.parse(f"{seconds}s")


@SETTINGS
@given(st.sampled_from([math.nan, math.inf, -math.inf, "nan", "inf", "1e400", "-inf"]))
def test_not_finite_is_refused(value: float | str) -> None:
    with pytest.raises(ValueError, match=r"finite|negative"):
        durations.parse(value)


@SETTINGS
@given(st.one_of(st.booleans(), st.none(), st.lists(st.integers()), st.binary(),
                 st.dictionaries(st.text(), st.integers()), st.complex_numbers()))
def test_other_types_raise_type_error(value: object) -> None:
    with pytest.raises(TypeError, match="invalid duration"):
        durations.parse(value)  # type: ignore[arg-type]


@SETTINGS
@given(st.text(max_size=30))
def test_any_text_parses_to_finite_seconds_or_fails_cleanly(text: str) -> None:
    try:
        seconds = durations.parse(text)
    except ValueError as exc:
        message = str(exc)
    else:
        assert math.isfinite(seconds)
        assert seconds >= 0
        return
    assert repr(text) in message  # the message quotes what it could not read

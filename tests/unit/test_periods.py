"""Period arithmetic: the examples of docs/rules.md and properties over random instants."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from license_manager.domain.periods import (
    add_months,
    grace_end,
    period_end,
    period_index_at,
    period_start,
    trial_end,
)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[arg-type, misc]


def test_twelve_month_terms_from_29_february_clamp_without_drifting() -> None:
    start = utc(2028, 2, 29, 10)
    assert [period_start(start, 12, k).date().isoformat() for k in range(5)] == [
        "2028-02-29",
        "2029-02-28",
        "2030-02-28",
        "2031-02-28",
        "2032-02-29",
    ]


def test_monthly_terms_from_31_january() -> None:
    start = utc(2027, 1, 31, 8, 30)
    assert [period_start(start, 1, k) for k in range(4)] == [
        start,
        utc(2027, 2, 28, 8, 30),
        utc(2027, 3, 31, 8, 30),
        utc(2027, 4, 30, 8, 30),
    ]
    assert period_start(utc(2028, 1, 31), 1, 1) == utc(2028, 2, 29)  # leap year


def test_time_of_day_is_kept_and_a_period_ends_where_the_next_begins() -> None:
    start = utc(2027, 1, 15, 10)
    assert period_end(start, 12, 0) == period_start(start, 12, 1) == utc(2028, 1, 15, 10)


def test_trial_is_days_times_24_hours() -> None:
    assert trial_end(utc(2027, 3, 27, 12), 30) == utc(2027, 4, 26, 12)


def test_grace_is_30_days_and_never_passes_the_period_end() -> None:
    start = utc(2027, 1, 15, 10)
    assert grace_end(start, 12, 0) == utc(2027, 2, 14, 10)  # the worked example
    assert grace_end(utc(2027, 1, 31), 1, 0) == utc(2027, 2, 28)  # 31 Jan - 28 Feb: 28 days < 30
    assert grace_end(utc(2027, 1, 31), 1, 1) == utc(2027, 3, 30)  # 28 Feb - 31 Mar: 31 days


def test_worked_example_period_lookup() -> None:
    start = utc(2027, 1, 15, 10)
    assert period_index_at(start, 12, utc(2027, 1, 20)) == 0
    assert period_index_at(start, 12, utc(2028, 1, 15, 9, 59)) == 0
    assert period_index_at(start, 12, utc(2028, 1, 15, 10, 1)) == 1
    assert period_index_at(start, 12, utc(2026, 1, 1)) == 0  # before activation: the first


instants = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2090, 1, 1), timezones=st.just(UTC))
terms = st.sampled_from([1, 3, 6, 12, 24, 36])


@given(instants, terms, st.integers(min_value=0, max_value=80))
def test_periods_are_consecutive_and_about_term_long(start: datetime, term: int, k: int) -> None:
    begin, end = period_start(start, term, k), period_end(start, term, k)
    assert begin < end
    assert timedelta(days=28 * term - 3) <= end - begin <= timedelta(days=31 * term + 3)
    # computed from the activation instant: the day is the activation day, or the month's last day
    assert begin.day == start.day or (begin.day < start.day and (begin + timedelta(days=1)).day == 1)
    assert (begin.hour, begin.minute, begin.second, begin.microsecond) == (
        start.hour,
        start.minute,
        start.second,
        start.microsecond,
    )


@given(instants, terms, st.integers(min_value=0, max_value=80), st.floats(min_value=0, max_value=1))
def test_lookup_finds_the_period_that_contains_an_instant(start: datetime, term: int, k: int, where: float) -> None:
    begin, end = period_start(start, term, k), period_end(start, term, k)
    inside = begin + (end - begin) * where
    if inside >= end:
        inside = end - timedelta(microseconds=1)
    assert period_index_at(start, term, inside) == k
    assert period_index_at(start, term, begin) == k
    assert period_index_at(start, term, end) == k + 1


@given(instants, st.integers(min_value=-1200, max_value=1200))
def test_add_months_lands_in_the_right_month(instant: datetime, months: int) -> None:
    moved = add_months(instant, months)
    assert (moved.year * 12 + moved.month) - (instant.year * 12 + instant.month) == months
    assert moved.day <= instant.day


@pytest.mark.parametrize("k", [0, 1, 5])
def test_grace_end_is_inside_the_period(k: int) -> None:
    start = utc(2027, 1, 31, 23, 59)
    for term in (1, 12):
        assert period_start(start, term, k) < grace_end(start, term, k) <= period_end(start, term, k)

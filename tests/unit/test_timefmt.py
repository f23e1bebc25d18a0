from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from license_manager.domain.timefmt import parse_iso, to_iso
from license_manager.ids import new_event_id


def test_iso_is_utc_with_z_and_milliseconds() -> None:
    cet = timezone(timedelta(hours=1))
    assert to_iso(datetime(2027, 1, 15, 11, 0, 0, 123456, tzinfo=cet)) == "2027-01-15T10:00:00.123Z"


def test_naive_instants_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        to_iso(datetime(2027, 1, 15))
    with pytest.raises(ValueError, match="naive"):
        parse_iso("2027-01-15T10:00:00")


@given(st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9998, 1, 1), timezones=st.just(UTC)))
def test_round_trip_and_text_order_is_time_order(instant: datetime) -> None:
    # every instant, even in year 1, is written with a four-digit year and read back to the ms
    assert parse_iso(to_iso(instant)) == instant.replace(microsecond=instant.microsecond // 1000 * 1000)
    assert to_iso(instant)[4] == "-"
    later = instant + timedelta(milliseconds=1)
    assert to_iso(instant) < to_iso(later)
    assert new_event_id(instant) < new_event_id(instant + timedelta(microseconds=1))

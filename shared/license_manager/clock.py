"""The one clock every function reads.

In AWS it is the system clock. The local development server (never deployed) shifts it with
`set_offset` so that trials, grace periods and renewals can be driven from outside.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

_lock = threading.Lock()
_offset = [timedelta(0)]  # a cell: set_now swaps its content


def now() -> datetime:
    """UTC, to the millisecond (the precision of every stored instant)."""
    instant = datetime.now(UTC) + _offset[0]
    return instant.replace(microsecond=instant.microsecond // 1000 * 1000)


def set_now(instant: datetime | None) -> datetime:
    """Make `now()` read `instant` at this moment and keep ticking from there (None: real time)."""
    with _lock:
        _offset[0] = timedelta(0) if instant is None else instant - datetime.now(UTC)
    return now()


def offset_seconds() -> float:
    """How far the clock is shifted from real time (the dev server hands it to its workers)."""
    return _offset[0].total_seconds()


def set_offset(seconds: float) -> None:
    with _lock:
        _offset[0] = timedelta(seconds=seconds)

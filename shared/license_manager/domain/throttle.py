"""Failed redemptions are throttled per org, so guessing keys is useless.

A fixed window: after MAX_FAILURES failed redemptions (unknown, revoked, or redeemed by another
org) within WINDOW of the window's first failure, the org's redemptions get 429 until the window
ends. Mistyped keys never reach the database and do not count; nor does re-redeeming one's own key.
With 120 random bits per key, 10 guesses per 15 minutes find nothing in the age of the universe.

The limit holds under concurrency: a failure is answered only once it has been counted, and it
is counted only if the window is not full, in one conditional write; a redemption's transaction
re-checks that the window is not full. So 40 guesses at once get 10 answers and 30 refusals.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from math import ceil

from license_manager.domain.errors import Throttled

MAX_FAILURES = 10
WINDOW = timedelta(minutes=15)


@dataclass(frozen=True, slots=True)
class FailureWindow:
    window_start: datetime
    failures: int


def open_since(now: datetime) -> datetime:
    """Windows that started after this instant are still open at `now`."""
    return now - WINDOW


def is_full(window: FailureWindow | None, now: datetime) -> bool:
    return window is not None and window.window_start > open_since(now) and window.failures >= MAX_FAILURES


def refusal(window: FailureWindow | None, now: datetime) -> Throttled:
    ends = (window.window_start + WINDOW) if window is not None else now
    wait = max(1, ceil((ends - now).total_seconds()))
    return Throttled(
        f"Too many failed redemptions for this organization; try again in {wait} seconds.",
        retry_after=wait,
        code="redemptions_throttled",
    )


def check(window: FailureWindow | None, now: datetime) -> None:
    if is_full(window, now):
        raise refusal(window, now)

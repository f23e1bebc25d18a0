"""Failed redemptions are throttled per org, so guessing keys is useless.

A fixed window: after MAX_FAILURES failed redemptions (unknown, revoked, or redeemed by another
org) within WINDOW of the window's first failure, the org's redemptions get 429 until the window
ends. Mistyped keys never reach the database and do not count; nor does re-redeeming one's own key.
With 120 random bits per key, 10 guesses per 15 minutes find nothing in the age of the universe.
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


def check(window: FailureWindow | None, now: datetime) -> None:
    if window is None or now >= window.window_start + WINDOW or window.failures < MAX_FAILURES:
        return
    wait = ceil((window.window_start + WINDOW - now).total_seconds())
    raise Throttled(
        f"Too many failed redemptions for this organization; try again in {wait} seconds.",
        retry_after=max(1, wait),
        code="redemptions_throttled",
    )


def after_failure(window: FailureWindow | None, now: datetime) -> FailureWindow:
    if window is None or now >= window.window_start + WINDOW:
        return FailureWindow(window_start=now, failures=1)
    return FailureWindow(window_start=window.window_start, failures=window.failures + 1)

"""Time arithmetic of trials and subscription periods (docs/rules.md, "Time arithmetic").

- A trial ends `trial_days` x 24 h after it starts.
- Period k (k = 0, 1, ...) starts at the activation instant plus k x `term_months` calendar months,
  always computed from the activation instant (never chained, so clamping cannot drift). A day that
  does not exist in the target month is clamped to that month's last day; the time of day is kept.
- A period ends where the next begins.
- The grace window is the first 30 x 24 h of every period, and never runs past the period's end
  (it only could with 1-month terms in February).
"""

from __future__ import annotations

from calendar import monthrange
from datetime import datetime, timedelta

from license_manager.domain.timefmt import ensure_utc

GRACE = timedelta(days=30)


def add_months(instant: datetime, months: int) -> datetime:
    """`instant` plus whole calendar months, the day clamped to the target month's last day."""
    years, month_index = divmod(instant.month - 1 + months, 12)
    year, month = instant.year + years, month_index + 1
    day = min(instant.day, monthrange(year, month)[1])
    return instant.replace(year=year, month=month, day=day)


def trial_end(started_at: datetime, trial_days: int) -> datetime:
    return started_at + timedelta(days=trial_days)


def period_start(activated_at: datetime, term_months: int, k: int) -> datetime:
    return add_months(activated_at, k * term_months)


def period_end(activated_at: datetime, term_months: int, k: int) -> datetime:
    return period_start(activated_at, term_months, k + 1)


def grace_end(activated_at: datetime, term_months: int, k: int) -> datetime:
    return min(period_start(activated_at, term_months, k) + GRACE, period_end(activated_at, term_months, k))


def period_index_at(activated_at: datetime, term_months: int, now: datetime) -> int:
    """The k whose period contains `now` (0 before activation: the first period is the earliest)."""
    activated_at, now = ensure_utc(activated_at), ensure_utc(now)
    if now <= activated_at:
        return 0
    months = (now.year - activated_at.year) * 12 + (now.month - activated_at.month)
    k = max(0, months // term_months)
    # the estimate is off by at most one period either way (clamped days, time of day)
    while k > 0 and period_start(activated_at, term_months, k) > now:
        k -= 1
    while period_start(activated_at, term_months, k + 1) <= now:
        k += 1
    return k

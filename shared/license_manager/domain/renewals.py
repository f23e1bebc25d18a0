"""When a subscription next needs the sweep, and which notifications a state calls for.

The renewal sweep looks at a subscription only when something is due at `next_due_at`:
- the next period begins (renewal);
- 7 days before the current period's grace ends, if devices are not all covered (warning);
- the grace end itself, if devices are still not all covered (lapse).
Each notification is sent once per period (the state remembers which period it was sent for).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from license_manager.domain.history import Action
from license_manager.domain.licensing import Change, ProductState

GRACE_WARNING = timedelta(days=7)


class Notice(StrEnum):
    """EventBridge detail-types (docs/events.md)."""

    RENEWED = "License Renewed"
    RENEWAL_SHORTFALL = "Renewal Shortfall"
    GRACE_ENDING_SOON = "Grace Ending Soon"
    LICENSE_LAPSED = "License Lapsed"


@dataclass(frozen=True, slots=True)
class Notification:
    notice: Notice
    org_id: str
    product_id: str
    period_number: int
    period_start: datetime
    period_end: datetime
    grace_ends_at: datetime
    devices: int
    licensed: int
    wallet: int
    consumed: int | None = None

    @property
    def shortfall(self) -> int:
        return max(0, self.devices - self.licensed)

    @property
    def licenses_to_buy_before_next_renewal(self) -> int:
        """max(0, devices - wallet), as everywhere (the shortfall is what is needed now)."""
        return max(0, self.devices - self.wallet)


def _notification(notice: Notice, state: ProductState, consumed: int | None = None) -> Notification:
    start, end, grace = state.period_bounds(state.period)
    return Notification(
        notice=notice,
        org_id=state.org_id,
        product_id=state.product_id,
        period_number=state.period + 1,
        period_start=start,
        period_end=end,
        grace_ends_at=grace,
        devices=state.devices,
        licensed=state.licensed,
        wallet=state.wallet,
        consumed=consumed,
    )


def _uncovered(state: ProductState) -> bool:
    return state.devices > state.licensed


def next_due_at(state: ProductState) -> datetime | None:
    """The earliest instant the sweep has something to do for this state (None: never)."""
    if not state.activated:
        return None
    start, end, grace = state.period_bounds(state.period)
    due = [end]
    if _uncovered(state):
        if state.warned_period != state.period:
            due.append(max(start, grace - GRACE_WARNING))
        if state.lapsed_period != state.period:
            due.append(grace)
    return min(due)


def renewal_notifications(change: Change) -> list[Notification]:
    """`renewed` (and `renewal shortfall` when devices are left uncovered) for every renewal in a
    change, whether the sweep or a user's change made it. Replays the change to know each period."""
    found: list[Notification] = []
    state = change.before
    for figures in change.events:
        if figures.action is not Action.RENEWED:
            continue
        state = replace(
            state, period=state.period + 1, licensed=figures.licensed_after or 0, wallet=figures.wallet_after or 0
        )
        found.append(_notification(Notice.RENEWED, state, consumed=figures.consumed))
        if figures.shortfall:
            found.append(_notification(Notice.RENEWAL_SHORTFALL, state, consumed=figures.consumed))
    return found


def grace_notices(state: ProductState, now: datetime) -> tuple[ProductState, list[Notification]]:
    """Warnings and lapses due now for the current (already renewed) period, each once."""
    if not state.activated or state.current_period(now) != state.period or not _uncovered(state):
        return state, []
    _start, _end, grace = state.period_bounds(state.period)
    if now >= grace and state.lapsed_period != state.period:
        # past the grace end: the warning is moot, the lapse is news
        after = replace(state, lapsed_period=state.period, warned_period=state.period)
        return after, [_notification(Notice.LICENSE_LAPSED, after)]
    if grace - GRACE_WARNING <= now < grace and state.warned_period != state.period:
        after = replace(state, warned_period=state.period)
        return after, [_notification(Notice.GRACE_ENDING_SOON, after)]
    return state, []

"""The licensing rules (docs/rules.md, rules 1-6): pure functions of stored facts and `now`.

One `ProductState` per org and product holds everything the rules need. Each change is computed
here as a new state plus the figures of its history events; the services write both atomically.

Figures: every change that moves licenses reports `consumed` (licenses newly covering devices in
the current period), `from_wallet`, `to_wallet`, `wallet_after` and `licensed_after`. A wallet
draw (activation, usage rise, renewal) has consumed = from_wallet.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from license_manager.domain import periods
from license_manager.domain.catalog import Product
from license_manager.domain.errors import Conflict, InvalidInput
from license_manager.domain.history import Action

MAX_DEVICES = 100_000


class Status(StrEnum):
    TRIAL = "trial"
    TRIAL_EXPIRED = "trial_expired"
    GRACE = "grace"
    LICENSED = "licensed"
    UNLICENSED = "unlicensed"


@dataclass(frozen=True, slots=True)
class ProductState:
    """What an org has of one product. `licensed` counts for period `period` only.
    `version` is 0 for a state that is not stored yet (optimistic locking)."""

    org_id: str
    product_id: str
    devices: int = 0  # = declared_devices + reported_devices: what every rule counts
    wallet: int = 0
    trial_started_at: datetime | None = None
    trial_ends_at: datetime | None = None
    activated_at: datetime | None = None
    activated_by: str | None = None
    terms_version: str | None = None
    term_months: int | None = None
    period: int = 0
    licensed: int = 0
    consumed_total: int = 0
    redeemed_total: int = 0
    warned_period: int = -1  # the period whose "grace ending soon" was sent
    lapsed_period: int = -1  # the period whose "license lapsed" was sent
    declared_devices: int = 0  # set by an admin, for installations that do not report
    reported_devices: int = 0  # the sum of what the org's active installed systems report
    version: int = 0

    @property
    def activated(self) -> bool:
        return self.activated_at is not None

    def _term(self) -> tuple[datetime, int]:
        if self.activated_at is None or self.term_months is None:
            raise ValueError("not activated")
        return self.activated_at, self.term_months

    def current_period(self, now: datetime) -> int:
        activated_at, term = self._term()
        return periods.period_index_at(activated_at, term, now)

    def period_bounds(self, k: int) -> tuple[datetime, datetime, datetime]:
        """(start, end, grace end) of period k."""
        activated_at, term = self._term()
        return (
            periods.period_start(activated_at, term, k),
            periods.period_end(activated_at, term, k),
            periods.grace_end(activated_at, term, k),
        )


def settled(state: ProductState, now: datetime) -> ProductState:
    """The state as it stands at `now`: every renewal that has fallen due applied exactly as the
    sweep will apply it (docs/rules.md, rule 5). Every figure shown is derived from this, so
    nothing a customer sees changes when the sweep runs. If the (dev) clock is moved back before
    the last renewed period, that period's count still applies: nothing is un-renewed."""
    return catch_up(state, now).after


def status_at(state: ProductState, now: datetime) -> Status | None:
    """Rule 5. None: the org has the product in its wallet or device count only (no trial, not
    activated)."""
    current = settled(state, now)
    if current.activated:
        if current.licensed >= current.devices:
            return Status.LICENSED
        _start, _end, grace_ends = current.period_bounds(current.period)
        return Status.GRACE if now < grace_ends else Status.UNLICENSED
    if current.trial_ends_at is not None:
        return Status.TRIAL if now < current.trial_ends_at else Status.TRIAL_EXPIRED
    return None


def licenses_to_buy_before_next_renewal(state: ProductState) -> int:
    """max(0, devices - wallet): what the wallet will not cover when the next period begins
    (of a settled state: see `settled`)."""
    return max(0, state.devices - state.wallet)


def shortfall(state: ProductState) -> int:
    """max(0, devices - licensed): devices not covered in the state's period."""
    return max(0, state.devices - state.licensed)


@dataclass(frozen=True, slots=True)
class Figures:
    """What one change did; becomes one history event."""

    action: Action
    system: bool = False  # the renewal step is done by `system`, whoever triggered it
    consumed: int | None = None
    from_wallet: int | None = None
    to_wallet: int | None = None
    wallet_after: int | None = None
    licensed_after: int | None = None
    shortfall: int | None = None
    devices_before: int | None = None
    devices_after: int | None = None
    terms_version: str | None = None
    period_start: datetime | None = None
    licenses: int | None = None
    key_last5: str | None = None
    system_id: str | None = None
    system_name: str | None = None


@dataclass(frozen=True, slots=True)
class Change:
    """The new state and the events that explain it, oldest first."""

    before: ProductState
    after: ProductState
    events: list[Figures] = field(default_factory=list)


def empty(org_id: str, product_id: str) -> ProductState:
    return ProductState(org_id=org_id, product_id=product_id)


def _draw(state: ProductState, action: Action, **extra: Any) -> tuple[ProductState, Figures]:
    """Cover as many uncovered devices of the current period as the wallet can (rules 2 and 4)."""
    draw = min(state.wallet, max(0, state.devices - state.licensed))
    after = replace(
        state,
        wallet=state.wallet - draw,
        licensed=state.licensed + draw,
        consumed_total=state.consumed_total + draw,
    )
    figures = Figures(
        action=action,
        consumed=draw,
        from_wallet=draw,
        to_wallet=0,
        wallet_after=after.wallet,
        licensed_after=after.licensed,
        shortfall=shortfall(after),
    )
    return after, replace(figures, **extra)


def renewals_due(state: ProductState, now: datetime) -> int:
    """How many periods have begun since the last processed one."""
    if not state.activated:
        return 0
    return max(0, state.current_period(now) - state.period)


def renew_once(state: ProductState) -> tuple[ProductState, Figures]:
    """Rule 6: period `state.period + 1` starts; the wallet covers min(wallet, devices) of it."""
    start, _end, _grace = state.period_bounds(state.period + 1)
    started = replace(state, period=state.period + 1, licensed=0)
    return _draw(started, Action.RENEWED, system=True, period_start=start)


def catch_up(state: ProductState, now: datetime, limit: int | None = None) -> Change:
    """Renew period by period up to the one containing `now` (at most `limit` periods)."""
    due = renewals_due(state, now)
    events: list[Figures] = []
    current = state
    for _ in range(due if limit is None else min(due, limit)):
        current, figures = renew_once(current)
        events.append(figures)
    return Change(state, current, events)


def start_trial(state: ProductState, product: Product, now: datetime) -> Change:
    """Rule 1: one trial per product per org, ever; none once activated."""
    if state.activated:
        raise Conflict(
            f"{product.name} is already activated; there is no trial once activated.", code="already_activated"
        )
    if state.trial_started_at is not None:
        raise Conflict(f"The trial of {product.name} was already used; one trial per product, ever.", code="trial_used")
    after = replace(state, trial_started_at=now, trial_ends_at=periods.trial_end(now, product.trial_days))
    return Change(state, after, [Figures(Action.TRIAL_STARTED)])


def check_terms(product: Product, accept_terms: bool, terms_version: str) -> None:
    if not accept_terms:
        raise InvalidInput(
            f"Activating {product.name} requires accepting its terms (accept_terms: true).",
            field="accept_terms",
            code="terms_not_accepted",
        )
    if terms_version != product.terms_version:
        raise InvalidInput(
            f"The terms of {product.name} are now version {product.terms_version}, not {terms_version}: "
            "read them and accept the current version.",
            field="terms_version",
            code="stale_terms",
            current_terms_version=product.terms_version,
        )


def activate(state: ProductState, product: Product, now: datetime, actor: str) -> Change:
    """Rule 2: period 1 starts now; the wallet covers as many current devices as it can."""
    if state.activated:
        raise Conflict(f"{product.name} is already activated for this organization.", code="already_activated")
    started = replace(
        state,
        activated_at=now,
        activated_by=actor,
        term_months=product.term_months,
        terms_version=product.terms_version,
        period=0,
        licensed=0,
    )
    after, figures = _draw(started, Action.ACTIVATED, terms_version=product.terms_version, period_start=now)
    return Change(state, after, [figures])


def check_devices(devices: int) -> None:
    if not 0 <= devices <= MAX_DEVICES:
        raise InvalidInput(f"devices must be between 0 and {MAX_DEVICES}.", field="devices")


def _usage(state: ProductState, declared: int, reported: int, now: datetime, **extra: Any) -> Change:
    """Rule 4: the devices become declared + reported. A rise is covered from the wallet at once as
    far as it can; a fall gives nothing back. Renewals that are due are processed first, so the rise
    is measured against the right period."""
    check_devices(declared + reported)
    settled = catch_up(state, now)
    current = settled.after
    before = current.devices
    changed = replace(current, declared_devices=declared, reported_devices=reported, devices=declared + reported)
    if changed == current:  # the same counts again: nothing to record
        return Change(state, current, settled.events)
    figure = {"devices_before": before, "devices_after": changed.devices, **extra}
    if changed.activated:  # a fall draws nothing (licensed >= devices), and nothing goes back
        after, figures = _draw(changed, Action.USAGE_CHANGED, **figure)
    else:
        after, figures = changed, Figures(Action.USAGE_CHANGED, **figure)
    return Change(state, after, [*settled.events, figures])


def set_usage(state: ProductState, devices: int, now: datetime) -> Change:
    """An admin declares the devices of installations that do not report (the org's devices are
    these plus what its installed systems report)."""
    check_devices(devices)
    return _usage(state, devices, state.reported_devices, now)


def report_usage(state: ProductState, before: int, after: int, now: datetime, **extra: Any) -> Change:
    """An installed system reports `after` devices where it reported `before` (0 when it joins,
    and its devices leave the org's usage when it is removed)."""
    check_devices(after)
    return _usage(state, state.declared_devices, state.reported_devices - before + after, now, **extra)


def redeem(state: ProductState, licenses: int, key_last5: str, now: datetime) -> Change:
    """Rule 3: of N licenses, min(N, shortfall) are consumed for the current period, where
    shortfall = max(0, devices - licensed); the rest go to the wallet. Not activated: all N go to
    the wallet. Renewals that are due are processed first (so `licensed` is the current period's)."""
    settled = catch_up(state, now)
    current = settled.after
    consumed = min(licenses, shortfall(current)) if current.activated else 0
    after = replace(
        current,
        licensed=current.licensed + consumed,
        wallet=current.wallet + licenses - consumed,
        consumed_total=current.consumed_total + consumed,
        redeemed_total=current.redeemed_total + licenses,
    )
    figures = Figures(
        Action.KEY_REDEEMED,
        licenses=licenses,
        key_last5=key_last5,
        consumed=consumed,
        from_wallet=0,
        to_wallet=licenses - consumed,
        wallet_after=after.wallet,
        licensed_after=after.licensed,  # 0 before activation: nothing is licensed yet
        shortfall=shortfall(after) if after.activated else None,
    )
    return Change(state, after, [*settled.events, figures])


def system_joins(state: ProductState, product: Product, now: datetime, system_id: str, name: str) -> Change:
    """An installed system registers for the product. If the org has neither tried nor activated
    it, its trial starts now: the trial begins when the software is installed (rule 1)."""
    events: list[Figures] = []
    after = state
    if not state.activated and state.trial_started_at is None:
        trial = start_trial(state, product, now)
        after, events = trial.after, list(trial.events)
    return Change(state, after, [*events, Figures(Action.SYSTEM_REGISTERED, system_id=system_id, system_name=name)])


def system_leaves(state: ProductState, devices: int, now: datetime, system_id: str, name: str) -> Change:
    """A system is removed: the devices it reported leave the org's usage (nothing goes back to
    the wallet: rule 4)."""
    left = report_usage(state, devices, 0, now, system_id=system_id, system_name=name)
    return Change(
        state, left.after, [Figures(Action.SYSTEM_REMOVED, system_id=system_id, system_name=name), *left.events]
    )

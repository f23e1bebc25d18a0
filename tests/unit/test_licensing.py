"""The licensing rules as pure functions: status, trial, activation, usage, renewal."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from license_manager.domain.catalog import Product
from license_manager.domain.errors import Conflict, InvalidInput
from license_manager.domain.history import Action
from license_manager.domain.licensing import (
    MAX_DEVICES,
    ProductState,
    Status,
    activate,
    catch_up,
    check_terms,
    empty,
    licenses_to_buy_before_next_renewal,
    redeem,
    set_usage,
    settled,
    start_trial,
    status_at,
)
from license_manager.domain.views import product_overview, wallet_line

PRODUCT = Product(product_id="cam", name="Cam", trial_days=30, terms_version="v2", term_months=12)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[arg-type, misc]


def fresh() -> ProductState:
    return empty("org_x", "cam")


def with_wallet(state: ProductState, n: int) -> ProductState:
    """A key of n redeemed before activation: all n go to the wallet."""
    return redeem(state, n, "ABCDE", utc(2027, 1, 1)).after


def redeemed(state: ProductState, n: int, now: datetime) -> ProductState:
    return redeem(state, n, "ABCDE", now).after


def test_trial_runs_then_expires() -> None:
    start = utc(2027, 3, 1, 12)
    state = start_trial(fresh(), PRODUCT, start).after
    assert status_at(state, start + timedelta(days=29, hours=23)) is Status.TRIAL
    assert status_at(state, start + timedelta(days=30)) is Status.TRIAL_EXPIRED


def test_one_trial_ever_and_none_once_activated() -> None:
    now = utc(2027, 3, 1)
    tried = start_trial(fresh(), PRODUCT, now).after
    with pytest.raises(Conflict, match="already used"):
        start_trial(tried, PRODUCT, now + timedelta(days=400))
    active = activate(fresh(), PRODUCT, now, "admin@example.com").after
    with pytest.raises(Conflict, match="already activated"):
        start_trial(active, PRODUCT, now)


def test_terms_must_be_accepted_and_current() -> None:
    with pytest.raises(InvalidInput) as refused:
        check_terms(PRODUCT, accept_terms=False, terms_version="v2")
    assert refused.value.extra["field"] == "accept_terms"
    with pytest.raises(InvalidInput) as stale:
        check_terms(PRODUCT, accept_terms=True, terms_version="v1")
    assert stale.value.extra["current_terms_version"] == "v2"
    check_terms(PRODUCT, accept_terms=True, terms_version="v2")


def test_activation_covers_devices_from_the_wallet_at_once() -> None:
    state = with_wallet(replace(fresh(), devices=5, declared_devices=5), 3)
    change = activate(state, PRODUCT, utc(2027, 1, 15, 10), "admin@example.com")
    assert (change.after.licensed, change.after.wallet) == (3, 0)
    (event,) = change.events
    assert (event.action, event.consumed, event.from_wallet, event.shortfall) == (Action.ACTIVATED, 3, 3, 2)
    assert event.terms_version == "v2"
    with pytest.raises(Conflict):
        activate(change.after, PRODUCT, utc(2027, 1, 16), "admin@example.com")


def test_usage_rise_draws_from_wallet_and_fall_gives_nothing_back() -> None:
    now = utc(2027, 1, 15, 10)
    state = activate(
        with_wallet(replace(fresh(), devices=2, declared_devices=2), 5), PRODUCT, now, "admin@example.com"
    ).after
    assert (state.licensed, state.wallet) == (2, 3)
    up = set_usage(state, 7, now + timedelta(days=1))
    assert (up.after.licensed, up.after.wallet) == (5, 0)
    assert up.events[-1].consumed == up.events[-1].from_wallet == 3
    down = set_usage(up.after, 1, now + timedelta(days=2))
    assert (down.after.licensed, down.after.wallet, down.after.devices) == (5, 0, 1)
    assert down.events[-1].consumed == 0


def test_unchanged_usage_changes_nothing() -> None:
    state = set_usage(fresh(), 4, utc(2027, 1, 1)).after
    change = set_usage(state, 4, utc(2027, 1, 2))
    assert change.after == state
    assert change.events == []


@pytest.mark.parametrize("devices", [-1, MAX_DEVICES + 1])
def test_device_bounds(devices: int) -> None:
    with pytest.raises(InvalidInput):
        set_usage(fresh(), devices, utc(2027, 1, 1))


def test_a_usage_change_after_a_period_boundary_renews_first() -> None:
    start = utc(2027, 1, 15, 10)
    state = activate(
        with_wallet(replace(fresh(), devices=3, declared_devices=3), 10), PRODUCT, start, "admin@example.com"
    ).after  # licensed 3, wallet 7
    change = set_usage(state, 5, utc(2028, 2, 1))
    renewed, usage = change.events
    assert (renewed.action, renewed.system, renewed.consumed, renewed.period_start) == (
        Action.RENEWED,
        True,
        3,
        utc(2028, 1, 15, 10),
    )
    assert (usage.action, usage.consumed) == (Action.USAGE_CHANGED, 2)
    assert (change.after.period, change.after.licensed, change.after.wallet) == (1, 5, 2)


def test_worked_example_of_the_rules() -> None:
    # 15 Jan 2027 10:00: 3 devices, activate. Grace until 14 Feb 10:00, status grace.
    t0 = utc(2027, 1, 15, 10)
    state = set_usage(fresh(), 3, t0).after
    state = activate(state, PRODUCT, t0, "admin@example.com").after
    assert status_at(state, t0) is Status.GRACE
    _start, end, grace = state.period_bounds(0)
    assert (end, grace) == (utc(2028, 1, 15, 10), utc(2027, 2, 14, 10))
    # 20 Jan: redeem 5 -> consumed 3, wallet 2, licensed
    change = redeem(state, 5, "ABCDE", utc(2027, 1, 20))
    assert (change.events[-1].consumed, change.events[-1].to_wallet) == (3, 2)
    state = change.after
    assert (state.licensed, state.wallet, status_at(state, utc(2027, 1, 20))) == (3, 2, Status.LICENSED)
    # 25 Jan: 3 -> 5 devices: the wallet covers 2
    change = set_usage(state, 5, utc(2027, 1, 25))
    assert (change.events[-1].consumed, change.events[-1].from_wallet) == (2, 2)
    state = change.after
    assert (state.licensed, state.wallet) == (5, 0)
    # 1 Mar: 5 -> 7, wallet empty, grace over: unlicensed
    state = set_usage(state, 7, utc(2027, 3, 1)).after
    assert (state.licensed, status_at(state, utc(2027, 3, 1))) == (5, Status.UNLICENSED)
    # 2 Mar: 7 -> 4: nothing returns, licensed
    state = set_usage(state, 4, utc(2027, 3, 2)).after
    assert (state.licensed, state.wallet, status_at(state, utc(2027, 3, 2))) == (5, 0, Status.LICENSED)
    # 3 Mar: redeem 10 -> consumed 0, wallet 10
    state = redeemed(state, 10, utc(2027, 3, 3))
    assert (state.licensed, state.wallet) == (5, 10)
    assert licenses_to_buy_before_next_renewal(state) == 0
    # 15 Jan 2028 10:01, before the sweep: what the org sees already is the renewal as the sweep
    # will record it: covered with 4 from the wallet (wallet 6), licensed, next renewal 2029, 0 to buy
    before_sweep = utc(2028, 1, 15, 10, 1)
    seen = product_overview(state, PRODUCT, before_sweep)
    line = wallet_line(state, PRODUCT, before_sweep)
    assert seen.status is Status.LICENSED
    assert seen.subscription is not None
    assert (seen.subscription.licensed, seen.wallet, seen.subscription.period_number) == (4, 6, 2)
    assert seen.subscription.next_renewal_at == line.next_renewal_at == utc(2029, 1, 15, 10)
    assert seen.subscription.licenses_needed_at_next_renewal == line.licenses_to_buy_before_next_renewal == 0
    # the sweep records that renewal: 4 from the wallet (wallet 6); no figure the org sees changes
    renewal = catch_up(state, utc(2028, 1, 15, 10, 2))
    assert (renewal.events[0].consumed, renewal.after.licensed, renewal.after.wallet) == (4, 4, 6)
    assert product_overview(renewal.after, PRODUCT, before_sweep) == seen
    assert wallet_line(renewal.after, PRODUCT, before_sweep) == line
    # conservation: keys 5 + 10 = wallet 6 + consumed (3 + 2 + 4)
    state = renewal.after
    assert state.redeemed_total == 15 == state.wallet + state.consumed_total


def test_a_pending_renewal_shows_what_it_will_need() -> None:
    # Given 4 devices and a 9-license key: period 1 consumes 4, the wallet keeps 5
    t0 = utc(2027, 1, 15, 10)
    state = activate(set_usage(fresh(), 4, t0).after, PRODUCT, t0, "admin@example.com").after
    state = redeemed(state, 9, t0)
    # When the clock moves into period 2 and then past period 3's start, without a sweep
    later = utc(2029, 1, 16)
    seen = product_overview(state, PRODUCT, later)
    line = wallet_line(state, PRODUCT, later)
    # Then the figures are those the sweep will record: period 2 took 4 (wallet 1), period 3 took 1
    swept = settled(state, later)
    assert (swept.period, swept.licensed, swept.wallet) == (2, 1, 0)
    assert seen.subscription is not None
    assert (seen.subscription.licensed, seen.subscription.shortfall, seen.wallet) == (1, 3, 0)
    assert line.next_renewal_at == utc(2030, 1, 15, 10) > later
    assert line.licenses_to_buy_before_next_renewal == seen.subscription.licenses_needed_at_next_renewal == 4
    assert seen.status is Status.GRACE


def test_catch_up_renews_period_by_period_until_the_wallet_runs_dry() -> None:
    start = utc(2027, 1, 15, 10)
    state = activate(
        with_wallet(replace(fresh(), devices=4, declared_devices=4), 10), PRODUCT, start, "admin@example.com"
    ).after  # wallet 6
    change = catch_up(state, utc(2030, 2, 1))
    assert [e.consumed for e in change.events] == [4, 2, 0]
    assert [e.shortfall for e in change.events] == [0, 2, 4]
    assert [e.period_start for e in change.events] == [utc(2028, 1, 15, 10), utc(2029, 1, 15, 10), utc(2030, 1, 15, 10)]
    assert change.after.period == 3
    assert catch_up(change.after, utc(2030, 2, 1)).events == []  # renewing twice renews once
    assert status_at(change.after, utc(2030, 2, 1)) is Status.GRACE
    assert status_at(change.after, utc(2030, 3, 1)) is Status.UNLICENSED


def test_status_of_a_product_only_in_the_wallet_is_none() -> None:
    assert status_at(with_wallet(fresh(), 3), utc(2027, 1, 1)) is None


# -- conservation, as a property over random sequences of changes -----------------------------

steps = st.lists(
    st.tuples(st.sampled_from(["usage", "redeem", "activate", "time"]), st.integers(min_value=0, max_value=40)),
    max_size=30,
)


@given(steps)
def test_licenses_are_conserved_whatever_happens(sequence: list[tuple[str, int]]) -> None:
    now = utc(2027, 1, 1)
    state = fresh()
    for kind, n in sequence:
        if kind == "usage":
            state = set_usage(state, n, now).after
        elif kind == "redeem":
            state = redeemed(state, n, now)
        elif kind == "activate" and not state.activated:
            state = activate(state, PRODUCT, now, "admin@example.com").after
        elif kind == "time":
            now += timedelta(days=n * 23)
            state = catch_up(state, now).after
        assert state.redeemed_total == state.wallet + state.consumed_total
        assert state.wallet >= 0
        assert state.licensed >= 0
        assert licenses_to_buy_before_next_renewal(state) == max(0, state.devices - state.wallet)


def test_activation_records_who_activated() -> None:
    change = activate(fresh(), PRODUCT, utc(2027, 1, 15), "ann@example.com")
    assert change.after.activated_by == "ann@example.com"

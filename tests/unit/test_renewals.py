"""When the sweep next has work for a subscription, and which notifications it sends."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from license_manager.domain.catalog import Product
from license_manager.domain.licensing import ProductState, activate, catch_up, empty
from license_manager.domain.renewals import (
    GRACE_WARNING,
    Notice,
    grace_notices,
    next_due_at,
    renewal_notifications,
)

PRODUCT = Product(product_id="cam", name="Cam", trial_days=30, terms_version="v1", term_months=12)
T0 = datetime(2027, 1, 15, 10, tzinfo=UTC)
GRACE_END = datetime(2027, 2, 14, 10, tzinfo=UTC)


def active(devices: int, wallet: int) -> ProductState:
    state = replace(
        empty("org_x", "cam"), devices=devices, declared_devices=devices, wallet=wallet, redeemed_total=wallet
    )
    return activate(state, PRODUCT, T0, "a@example.com").after


def test_not_activated_is_never_due() -> None:
    assert next_due_at(replace(empty("org_x", "cam"), devices=5)) is None


def test_a_covered_subscription_is_due_at_its_next_renewal() -> None:
    assert next_due_at(active(devices=3, wallet=3)) == datetime(2028, 1, 15, 10, tzinfo=UTC)


def test_an_uncovered_one_is_due_for_the_warning_then_the_lapse() -> None:
    state = active(devices=3, wallet=1)
    assert next_due_at(state) == GRACE_END - GRACE_WARNING
    warned, notices = grace_notices(state, GRACE_END - timedelta(days=6))
    assert [n.notice for n in notices] == [Notice.GRACE_ENDING_SOON]
    assert notices[0].shortfall == 2
    assert next_due_at(warned) == GRACE_END
    assert grace_notices(warned, GRACE_END - timedelta(days=5))[1] == []  # once
    lapsed, notices = grace_notices(warned, GRACE_END + timedelta(hours=1))
    assert [n.notice for n in notices] == [Notice.LICENSE_LAPSED]
    assert next_due_at(lapsed) == datetime(2028, 1, 15, 10, tzinfo=UTC)
    assert grace_notices(lapsed, GRACE_END + timedelta(days=2))[1] == []  # once


def test_a_sweep_after_the_grace_end_skips_the_warning_and_reports_the_lapse() -> None:
    state = active(devices=3, wallet=0)
    after, notices = grace_notices(state, GRACE_END + timedelta(days=3))
    assert [n.notice for n in notices] == [Notice.LICENSE_LAPSED]
    assert grace_notices(after, GRACE_END + timedelta(days=4))[1] == []


def test_no_notice_once_covered_or_before_the_warning_window() -> None:
    assert grace_notices(active(devices=3, wallet=3), GRACE_END)[1] == []
    assert grace_notices(active(devices=3, wallet=0), GRACE_END - GRACE_WARNING - timedelta(hours=1))[1] == []


def test_no_grace_notice_while_a_renewal_is_pending() -> None:
    state = active(devices=3, wallet=0)
    assert grace_notices(state, datetime(2028, 2, 20, tzinfo=UTC))[1] == []  # period 2 not renewed yet


def test_renewals_announce_themselves_and_their_shortfalls() -> None:
    state = active(devices=4, wallet=10)  # licensed 4, wallet 6
    change = catch_up(state, datetime(2030, 2, 1, tzinfo=UTC))  # renews 2028 (4), 2029 (2), 2030 (0)
    notes = renewal_notifications(change)
    assert [(n.notice, n.period_number, n.consumed, n.shortfall) for n in notes] == [
        (Notice.RENEWED, 2, 4, 0),
        (Notice.RENEWED, 3, 2, 2),
        (Notice.RENEWAL_SHORTFALL, 3, 2, 2),
        (Notice.RENEWED, 4, 0, 4),
        (Notice.RENEWAL_SHORTFALL, 4, 0, 4),
    ]
    assert notes[-1].period_start == datetime(2030, 1, 15, 10, tzinfo=UTC)
    assert notes[-1].grace_ends_at == datetime(2030, 2, 14, 10, tzinfo=UTC)

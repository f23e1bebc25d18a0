"""What an org sees of its products: derived from stored state and `now` at read time."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from license_manager.domain.catalog import Product
from license_manager.domain.licensing import ProductState, Status, licenses_to_buy, status_at
from license_manager.domain.timefmt import Instant


class TrialView(BaseModel):
    started_at: Instant
    ends_at: Instant
    running: bool


class SubscriptionView(BaseModel):
    activated_at: Instant
    activated_by: str | None
    terms_version: str
    term_months: int
    period_number: int = Field(description="1 for the first period")
    period_start: Instant
    period_end: Instant
    grace_ends_at: Instant
    in_grace_window: bool = Field(description="Now is within the first 30 days of the current period")
    licensed: int = Field(description="Licenses covering devices in the current period")
    shortfall: int = Field(description="Devices not covered in the current period")
    renewal_pending: bool = Field(
        description="The current period has begun but its renewal has not been processed yet (it counts 0 licensed)"
    )
    next_renewal_at: Instant
    licenses_needed_at_next_renewal: int = Field(description="max(0, devices - wallet): buy these before it")


class ProductOverview(BaseModel):
    product_id: str
    name: str
    status: Status | None = Field(description="null: the product is only in the wallet or device count")
    devices: int
    wallet: int = Field(description="Licenses redeemed but not yet consumed")
    trial: TrialView | None
    subscription: SubscriptionView | None


def trial_view(state: ProductState, now: datetime) -> TrialView | None:
    if state.trial_started_at is None or state.trial_ends_at is None:
        return None
    return TrialView(started_at=state.trial_started_at, ends_at=state.trial_ends_at, running=now < state.trial_ends_at)


def subscription_view(state: ProductState, now: datetime) -> SubscriptionView | None:
    if state.activated_at is None or state.term_months is None or state.terms_version is None:
        return None
    k = state.current_period(now)
    start, end, grace = state.period_bounds(k)
    licensed = state.licensed_at(now)
    return SubscriptionView(
        activated_at=state.activated_at,
        activated_by=state.activated_by,
        terms_version=state.terms_version,
        term_months=state.term_months,
        period_number=k + 1,
        period_start=start,
        period_end=end,
        grace_ends_at=grace,
        in_grace_window=start <= now < grace,
        licensed=licensed,
        shortfall=max(0, state.devices - licensed),
        renewal_pending=state.period < k,
        next_renewal_at=end,
        licenses_needed_at_next_renewal=licenses_to_buy(state),
    )


def product_overview(state: ProductState, product: Product | None, now: datetime) -> ProductOverview:
    """`product` None: no longer in the catalog; what the org has of it is still shown, by id."""
    return ProductOverview(
        product_id=state.product_id,
        name=product.name if product is not None else state.product_id,
        status=status_at(state, now),
        devices=state.devices,
        wallet=state.wallet,
        trial=trial_view(state, now),
        subscription=subscription_view(state, now),
    )


class WalletLine(BaseModel):
    product_id: str
    name: str
    wallet: int = Field(description="Licenses redeemed but not yet consumed")
    devices: int
    next_renewal_at: Instant | None = Field(description="null: not activated")
    licenses_to_buy_before_next_renewal: int = Field(description="max(0, devices - wallet)")


def wallet_line(state: ProductState, product: Product | None) -> WalletLine:
    return WalletLine(
        product_id=state.product_id,
        name=product.name if product is not None else state.product_id,
        wallet=state.wallet,
        devices=state.devices,
        next_renewal_at=state.period_bounds(state.period)[1] if state.activated else None,
        licenses_to_buy_before_next_renewal=licenses_to_buy(state),
    )

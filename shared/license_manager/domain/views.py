"""What an org sees of its products: derived at read time from stored state and `now`, with every
renewal that has fallen due applied as the sweep will apply it (docs/rules.md, rule 5)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from license_manager.domain.catalog import Product
from license_manager.domain.licensing import (
    ProductState,
    Status,
    licenses_to_buy_before_next_renewal,
    settled,
    shortfall,
    status_at,
)
from license_manager.domain.systems import Kind, System
from license_manager.domain.timefmt import Instant


class _View(BaseModel):
    """Built on first use, not at import: a cold start pays only for the views it answers with."""

    model_config = ConfigDict(defer_build=True)


class TrialView(_View):
    started_at: Instant
    ends_at: Instant
    running: bool


class SubscriptionView(_View):
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
    next_renewal_at: Instant
    licenses_needed_at_next_renewal: int = Field(description="max(0, devices - wallet): buy these before it")


class SystemDevices(_View):
    """What one installed system reports."""

    system_id: str
    name: str
    kind: Kind
    devices: int
    last_seen_at: Instant
    stale: bool = Field(description="Not seen for 7 days")


class ProductOverview(_View):
    product_id: str
    name: str
    status: Status | None = Field(description="null: the product is only in the wallet or device count")
    devices: int = Field(description="declared_devices + what the installed systems report")
    declared_devices: int = Field(description="Set by an admin, for installations that do not report")
    systems: list[SystemDevices] = Field(description="The org's active installed systems of this product")
    wallet: int = Field(description="Licenses redeemed but not yet consumed")
    trial: TrialView | None
    subscription: SubscriptionView | None


def trial_view(state: ProductState, now: datetime) -> TrialView | None:
    if state.trial_started_at is None or state.trial_ends_at is None:
        return None
    return TrialView(started_at=state.trial_started_at, ends_at=state.trial_ends_at, running=now < state.trial_ends_at)


def subscription_view(state: ProductState, now: datetime) -> SubscriptionView | None:
    """Of a settled state (see `licensing.settled`), whose `period` is the current one."""
    if state.activated_at is None or state.term_months is None or state.terms_version is None:
        return None
    k = state.period
    start, end, grace = state.period_bounds(k)
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
        licensed=state.licensed,
        shortfall=shortfall(state),
        next_renewal_at=end,
        licenses_needed_at_next_renewal=licenses_to_buy_before_next_renewal(state),
    )


def system_devices(system: System, now: datetime) -> SystemDevices:
    return SystemDevices(
        system_id=system.system_id,
        name=system.name,
        kind=system.kind,
        devices=system.devices,
        last_seen_at=system.last_seen_at,
        stale=system.stale(now),
    )


def product_overview(
    state: ProductState, product: Product | None, now: datetime, systems: Sequence[System] = ()
) -> ProductOverview:
    """`product` None: no longer in the catalog; what the org has of it is still shown, by id.
    `systems`: the org's systems (those of this product, still active, are shown)."""
    current = settled(state, now)
    mine = [system_devices(s, now) for s in systems if s.product_id == current.product_id and s.active]
    return ProductOverview(
        product_id=current.product_id,
        name=product.name if product is not None else current.product_id,
        status=status_at(current, now),
        devices=current.devices,
        declared_devices=current.declared_devices,
        systems=sorted(mine, key=lambda s: (s.name.lower(), s.system_id)),
        wallet=current.wallet,
        trial=trial_view(current, now),
        subscription=subscription_view(current, now),
    )


class WalletLine(_View):
    product_id: str
    name: str
    wallet: int = Field(description="Licenses redeemed but not yet consumed")
    devices: int
    next_renewal_at: Instant | None = Field(description="null: not activated")
    licenses_to_buy_before_next_renewal: int = Field(description="max(0, devices - wallet)")


def wallet_line(state: ProductState, product: Product | None, now: datetime) -> WalletLine:
    current = settled(state, now)
    return WalletLine(
        product_id=current.product_id,
        name=product.name if product is not None else current.product_id,
        wallet=current.wallet,
        devices=current.devices,
        next_renewal_at=current.period_bounds(current.period)[1] if current.activated else None,
        licenses_to_buy_before_next_renewal=licenses_to_buy_before_next_renewal(current),
    )

"""Trials, activation, usage, the overview and the wallet (the activate and overview functions)."""

from __future__ import annotations

from typing import Annotated

from pydantic import (
    Field,
    StrictBool,
    StrictInt,
    StringConstraints,
)

from license_manager.api.schemas.common import In, Out, ProductRef
from license_manager.domain.licensing import MAX_DEVICES
from license_manager.domain.timefmt import Instant
from license_manager.domain.views import ProductOverview, WalletLine


class TrialIn(In):
    product_id: ProductRef


class ActivationIn(In):
    product_id: ProductRef
    accept_terms: StrictBool = Field(description="Must be true: the admin accepts the product's terms")
    terms_version: Annotated[str, StringConstraints(pattern=r"^[\x21-\x7e]{1,40}$")] = Field(
        description="The version of the terms accepted; must be the catalog's current one"
    )
    dry_run: StrictBool = Field(default=False, description="Preview the activation; write nothing")


class ActivationOut(Out):
    dry_run: bool
    covered_from_wallet: int = Field(description="Licenses the wallet covers at once (consumed)")
    still_needed: int = Field(description="Devices still uncovered: redeem this many licenses within the grace period")
    product: ProductOverview


class UsageIn(In):
    devices: Annotated[StrictInt, Field(ge=0, le=MAX_DEVICES, description="Devices running the product now")]


class OverviewOut(Out):
    org_id: str
    name: str
    as_of: Instant
    products: list[ProductOverview]


class WalletOut(Out):
    org_id: str
    as_of: Instant
    products: list[WalletLine]

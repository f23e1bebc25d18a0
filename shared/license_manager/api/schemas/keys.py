"""License keys: redemption (the redeem function) and issuance (the admin_keys function)."""

from __future__ import annotations

from typing import Annotated

from pydantic import (
    Field,
    StrictInt,
    StringConstraints,
)

from license_manager.api.schemas.common import In, Out, ProductRef
from license_manager.domain.license_keys import EXAMPLE_KEY, MAX_KEYS_PER_BATCH, MAX_LICENSES_PER_KEY, KeyStatus
from license_manager.domain.licensing import Status
from license_manager.domain.timefmt import Instant


class RedemptionIn(In):
    license_key: Annotated[str, StringConstraints(min_length=1, max_length=100)] = Field(
        description="As printed: case, spaces and dashes do not matter", examples=[EXAMPLE_KEY]
    )


class RedemptionOut(Out):
    product_id: str
    licenses: int = Field(description="Licenses the key carried")
    consumed: int = Field(description="Of those, licenses now covering devices in the current period")
    added_to_wallet: int = Field(description="The rest, kept for new devices and renewals")
    status: Status | None = Field(description="The product's status after the redemption")


class IssueKeysIn(In):
    product_id: ProductRef
    licenses: Annotated[StrictInt, Field(ge=1, le=MAX_LICENSES_PER_KEY, description="Licenses per key")]
    count: Annotated[StrictInt, Field(ge=1, le=MAX_KEYS_PER_BATCH, description="Keys in the batch")]


class IssuedKeyOut(Out):
    key_id: str = Field(description="Use it to revoke the key; it does not reveal the key")
    license_key: str = Field(description="The key itself: shown once, never stored in clear")
    last5: str


class IssuedBatchOut(Out):
    batch_id: str
    product_id: str
    licenses: int
    keys: list[IssuedKeyOut]


class KeyOut(Out):
    key_id: str
    product_id: str
    licenses: int
    last5: str
    status: KeyStatus
    revoked_at: Instant | None

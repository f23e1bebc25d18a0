"""Request and response bodies. The OpenAPI document is generated from these models."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StringConstraints

from license_manager.domain.catalog import Product, Reseller
from license_manager.domain.history import HistoryEvent
from license_manager.domain.identity import Role
from license_manager.domain.license_keys import MAX_KEYS_PER_BATCH, MAX_LICENSES_PER_KEY, KeyStatus
from license_manager.domain.licensing import MAX_DEVICES, Status
from license_manager.domain.orgs import Member
from license_manager.domain.timefmt import Instant
from license_manager.domain.views import ProductOverview, WalletLine


class _In(BaseModel):
    """Request bodies refuse unknown fields, so a typo is an error and not silently ignored."""

    model_config = ConfigDict(extra="forbid")


class CreateOrgIn(_In):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class OrgOut(BaseModel):
    org_id: str
    name: str
    role: Role = Field(description="The caller's role in this organization.")

    @classmethod
    def of(cls, member: Member) -> OrgOut:
        return cls(org_id=member.org_id, name=member.org_name, role=member.role)


class OrgsOut(BaseModel):
    orgs: list[OrgOut]


class MemberIn(_In):
    email: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=254)]
    role: Role


class MemberOut(BaseModel):
    email: str
    role: Role
    added_at: Instant
    added_by: str

    @classmethod
    def of(cls, member: Member) -> MemberOut:
        return cls(email=member.email, role=member.role, added_at=member.added_at, added_by=member.added_by)


class MembersOut(BaseModel):
    members: list[MemberOut]


class ProductsOut(BaseModel):
    products: list[Product]


class ResellersOut(BaseModel):
    country: str | None
    resellers: list[Reseller]


class HistoryOut(BaseModel):
    events: list[HistoryEvent]
    next_cursor: str | None = Field(description="Pass as `cursor` to get the next (older) page; null at the end.")


class FieldError(BaseModel):
    field: str
    message: str
    type: str | None = None


class Problem(BaseModel):
    """RFC 9457 problem details (media type application/problem+json)."""

    type: str = Field(examples=["urn:license-manager:problem:not-found"])
    title: str
    status: int
    detail: str
    code: str | None = Field(default=None, description="A stable machine-readable reason, where one helps.")
    field: str | None = Field(default=None, description="The input field at fault, for single-field errors.")
    errors: list[FieldError] | None = Field(default=None, description="Every invalid field (422 from validation).")


ProductRef = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]


class TrialIn(_In):
    product_id: ProductRef


class ActivationIn(_In):
    product_id: ProductRef
    accept_terms: StrictBool = Field(description="Must be true: the admin accepts the product's terms")
    terms_version: Annotated[str, StringConstraints(min_length=1, max_length=40)] = Field(
        description="The version of the terms accepted; must be the catalog's current one"
    )
    dry_run: StrictBool = Field(default=False, description="Preview the activation; write nothing")


class ActivationOut(BaseModel):
    dry_run: bool
    covered_from_wallet: int = Field(description="Licenses the wallet covers at once (consumed)")
    still_needed: int = Field(description="Devices still uncovered: redeem this many licenses within the grace period")
    product: ProductOverview


class UsageIn(_In):
    devices: Annotated[StrictInt, Field(ge=0, le=MAX_DEVICES, description="Devices running the product now")]


class OverviewOut(BaseModel):
    org_id: str
    name: str
    as_of: Instant
    products: list[ProductOverview]


class WalletOut(BaseModel):
    org_id: str
    as_of: Instant
    products: list[WalletLine]


class RedemptionIn(_In):
    license_key: Annotated[str, StringConstraints(min_length=1, max_length=100)] = Field(
        description="As printed: case, spaces and dashes do not matter", examples=["7K3QF-9ZP2M-4R8TA-XW6DN-B1CVJ"]
    )


class RedemptionOut(BaseModel):
    product_id: str
    licenses: int = Field(description="Licenses the key carried")
    consumed: int = Field(description="Of those, licenses now covering devices in the current period")
    added_to_wallet: int = Field(description="The rest, kept for new devices and renewals")
    status: Status | None = Field(description="The product's status after the redemption")


class IssueKeysIn(_In):
    product_id: ProductRef
    licenses: Annotated[StrictInt, Field(ge=1, le=MAX_LICENSES_PER_KEY, description="Licenses per key")]
    count: Annotated[StrictInt, Field(ge=1, le=MAX_KEYS_PER_BATCH, description="Keys in the batch")]


class IssuedKeyOut(BaseModel):
    key_id: str = Field(description="Use it to revoke the key; it does not reveal the key")
    license_key: str = Field(description="The key itself: shown once, never stored")
    last5: str


class IssuedBatchOut(BaseModel):
    batch_id: str
    product_id: str
    licenses: int
    keys: list[IssuedKeyOut]


class KeyOut(BaseModel):
    key_id: str
    product_id: str
    licenses: int
    last5: str
    status: KeyStatus
    revoked_at: Instant | None

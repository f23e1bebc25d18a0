"""Request and response bodies. The OpenAPI document is generated from these models.

Responses are read from the use cases' results by attribute (`api.resolver.answer`), so a route
never copies fields one by one.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import (
    AfterValidator,
    AliasChoices,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StringConstraints,
)

from license_manager.domain.catalog import Product, ProductId, Reseller
from license_manager.domain.history import HistoryEvent
from license_manager.domain.identity import Role
from license_manager.domain.license_keys import EXAMPLE_KEY, MAX_KEYS_PER_BATCH, MAX_LICENSES_PER_KEY, KeyStatus
from license_manager.domain.licensing import MAX_DEVICES, Status
from license_manager.domain.systems import MAX_NAME as MAX_SYSTEM_NAME
from license_manager.domain.systems import Kind, SystemStatus
from license_manager.domain.text import MAX_EMAIL_LENGTH, clean_email, clean_name
from license_manager.domain.timefmt import Instant
from license_manager.domain.views import ProductOverview, WalletLine


class _In(BaseModel):
    """Request bodies refuse unknown fields, so a typo is an error and not silently ignored."""

    model_config = ConfigDict(extra="forbid")


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


Name = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    AfterValidator(clean_name),
    Field(description="Shown to other people: no control, invisible or direction-changing characters"),
]
Email = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=3, max_length=MAX_EMAIL_LENGTH, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
    ),
    AfterValidator(clean_email),
    Field(description="Compared trimmed and lower-cased; no invisible characters", examples=["bob@example.com"]),
]
ProductRef = Annotated[ProductId, Field(description="A product_id of the catalog (GET /products)")]


class CreateOrgIn(_In):
    name: Name


class OrgOut(_Out):
    org_id: str
    name: str = Field(validation_alias=AliasChoices("name", "org_name"))
    role: Role = Field(description="The caller's role in this organization.")


class OrgsOut(_Out):
    orgs: list[OrgOut]
    next_cursor: str | None = Field(description="Pass as `cursor` to get the next page; null at the end.")


class MemberIn(_In):
    email: Email
    role: Role


class MemberOut(_Out):
    email: str
    role: Role
    added_at: Instant
    added_by: str


class MembersOut(_Out):
    members: list[MemberOut]


class ProductsOut(_Out):
    products: list[Product]


class ResellersOut(_Out):
    country: str | None
    resellers: list[Reseller]


class HistoryOut(_Out):
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


class TrialIn(_In):
    product_id: ProductRef


class ActivationIn(_In):
    product_id: ProductRef
    accept_terms: StrictBool = Field(description="Must be true: the admin accepts the product's terms")
    terms_version: Annotated[str, StringConstraints(pattern=r"^[\x21-\x7e]{1,40}$")] = Field(
        description="The version of the terms accepted; must be the catalog's current one"
    )
    dry_run: StrictBool = Field(default=False, description="Preview the activation; write nothing")


class ActivationOut(_Out):
    dry_run: bool
    covered_from_wallet: int = Field(description="Licenses the wallet covers at once (consumed)")
    still_needed: int = Field(description="Devices still uncovered: redeem this many licenses within the grace period")
    product: ProductOverview


class UsageIn(_In):
    devices: Annotated[StrictInt, Field(ge=0, le=MAX_DEVICES, description="Devices running the product now")]


class OverviewOut(_Out):
    org_id: str
    name: str
    as_of: Instant
    products: list[ProductOverview]


class WalletOut(_Out):
    org_id: str
    as_of: Instant
    products: list[WalletLine]


class RedemptionIn(_In):
    license_key: Annotated[str, StringConstraints(min_length=1, max_length=100)] = Field(
        description="As printed: case, spaces and dashes do not matter", examples=[EXAMPLE_KEY]
    )


class RedemptionOut(_Out):
    product_id: str
    licenses: int = Field(description="Licenses the key carried")
    consumed: int = Field(description="Of those, licenses now covering devices in the current period")
    added_to_wallet: int = Field(description="The rest, kept for new devices and renewals")
    status: Status | None = Field(description="The product's status after the redemption")


class IssueKeysIn(_In):
    product_id: ProductRef
    licenses: Annotated[StrictInt, Field(ge=1, le=MAX_LICENSES_PER_KEY, description="Licenses per key")]
    count: Annotated[StrictInt, Field(ge=1, le=MAX_KEYS_PER_BATCH, description="Keys in the batch")]


class IssuedKeyOut(_Out):
    key_id: str = Field(description="Use it to revoke the key; it does not reveal the key")
    license_key: str = Field(description="The key itself: shown once, never stored in clear")
    last5: str


class IssuedBatchOut(_Out):
    batch_id: str
    product_id: str
    licenses: int
    keys: list[IssuedKeyOut]


class KeyOut(_Out):
    key_id: str
    product_id: str
    licenses: int
    last5: str
    status: KeyStatus
    revoked_at: Instant | None


# -- installed systems ----------------------------------------------------------------------------------


class IssuedCodeOut(_Out):
    code: str = Field(description="Shown this once; give it to the installed software within 24 h")
    expires_at: Instant


class RegisterIn(_In):
    code: Annotated[str, StringConstraints(min_length=1, max_length=40)] = Field(
        description="The registration code an admin created", examples=["REG-7K3QF-9ZP2M-4R8TA-XW6DN"]
    )
    name: Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_SYSTEM_NAME),
        AfterValidator(clean_name),
    ] = Field(description="How the org will know this installation, e.g. 'Gate cameras, site B'")
    product_id: ProductRef


class RegistrationOut(_Out):
    system_id: str
    org_id: str
    product_id: str
    name: str
    credential: str = Field(description="Shown this once: send it as Authorization: Bearer <credential>")


class SystemUsageIn(_In):
    devices: Annotated[StrictInt, Field(ge=0, le=MAX_DEVICES, description="Devices this installation runs")]


class ReportOut(_Out):
    system_id: str
    devices: int = Field(description="What this system reports")
    org_devices: int = Field(description="The org's devices of the product: declared + every system's")
    status: Status | None


class LicenseOut(_Out):
    license: str = Field(description="A compact JWS (ES256) to verify with GET /.well-known/jwks.json")
    expires_at: Instant


class CredentialOut(_Out):
    system_id: str
    credential: str = Field(description="Shown this once; the previous one no longer works")


class SystemOut(_Out):
    system_id: str
    name: str
    product_id: str
    kind: Kind = Field(description="online: registered with a code; offline: known from uploaded system files")
    status: SystemStatus
    devices: int
    created_at: Instant
    last_seen_at: Instant
    stale: bool = Field(description="Not seen for 7 days")


class SystemsOut(_Out):
    systems: list[SystemOut]


class SystemFileIn(_In):
    """A system file, as the installed software wrote it at a site with no internet."""

    system_id: Annotated[str, StringConstraints(pattern=r"^off_[0-9a-z]{16,40}$")]
    name: Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_SYSTEM_NAME),
        AfterValidator(clean_name),
    ]
    product_id: ProductRef
    devices: Annotated[StrictInt, Field(ge=0, le=MAX_DEVICES)]
    created_at: AwareDatetime
    nonce: Annotated[str, StringConstraints(pattern=r"^[0-9A-Za-z_-]{8,64}$")]


class Jwk(BaseModel):
    kty: str
    crv: str
    x: str
    y: str
    kid: str
    use: str
    alg: str


class JwksOut(_Out):
    keys: list[Jwk]

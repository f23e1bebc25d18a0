"""Installed systems and the keys that verify their licenses (the systems function)."""

from __future__ import annotations

from typing import Annotated

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    StringConstraints,
)

from license_manager.api.schemas.common import In, Out, ProductRef
from license_manager.domain.licensing import MAX_DEVICES, Status
from license_manager.domain.systems import MAX_NAME as MAX_SYSTEM_NAME
from license_manager.domain.systems import Kind, SystemStatus
from license_manager.domain.text import clean_name
from license_manager.domain.timefmt import Instant


class IssuedCodeOut(Out):
    code: str = Field(description="Shown this once; give it to the installed software within 24 h")
    expires_at: Instant


class RegisterIn(In):
    code: Annotated[str, StringConstraints(min_length=1, max_length=40)] = Field(
        description="The registration code an admin created", examples=["REG-7K3QF-9ZP2M-4R8TA-XW6DN"]
    )
    name: Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_SYSTEM_NAME),
        AfterValidator(clean_name),
    ] = Field(description="How the org will know this installation, e.g. 'Gate cameras, site B'")
    product_id: ProductRef


class RegistrationOut(Out):
    system_id: str
    org_id: str
    product_id: str
    name: str
    credential: str = Field(description="Shown this once: send it as Authorization: Bearer <credential>")


class SystemUsageIn(In):
    devices: Annotated[StrictInt, Field(ge=0, le=MAX_DEVICES, description="Devices this installation runs")]


class ReportOut(Out):
    system_id: str
    devices: int = Field(description="What this system reports")
    org_devices: int = Field(description="The org's devices of the product: declared + every system's")
    status: Status | None


class LicenseOut(Out):
    license: str = Field(description="A compact JWS (ES256) to verify with GET /.well-known/jwks.json")
    expires_at: Instant


class CredentialOut(Out):
    system_id: str
    credential: str = Field(description="Shown this once; the previous one no longer works")


class SystemOut(Out):
    system_id: str
    name: str
    product_id: str
    kind: Kind = Field(description="online: registered with a code; offline: known from uploaded system files")
    status: SystemStatus
    devices: int
    created_at: Instant
    last_seen_at: Instant
    stale: bool = Field(description="Not seen for 7 days")


class SystemsOut(Out):
    systems: list[SystemOut]


class SystemFileIn(In):
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
    model_config = ConfigDict(defer_build=True)

    kty: str
    crv: str
    x: str
    y: str
    kid: str
    use: str
    alg: str


class JwksOut(Out):
    keys: list[Jwk]

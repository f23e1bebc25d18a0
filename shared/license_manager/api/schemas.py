"""Request and response bodies. The OpenAPI document is generated from these models."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from license_manager.domain.catalog import Product, Reseller
from license_manager.domain.history import HistoryEvent
from license_manager.domain.identity import Role
from license_manager.domain.orgs import Member
from license_manager.domain.timefmt import Instant


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

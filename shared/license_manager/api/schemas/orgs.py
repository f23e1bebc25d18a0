"""Organizations, members and history (the orgs function)."""

from __future__ import annotations

from pydantic import (
    AliasChoices,
    Field,
)

from license_manager.api.schemas.common import Email, In, Name, Out
from license_manager.domain.history import HistoryEvent
from license_manager.domain.identity import Role
from license_manager.domain.timefmt import Instant


class CreateOrgIn(In):
    name: Name


class OrgOut(Out):
    org_id: str
    name: str = Field(validation_alias=AliasChoices("name", "org_name"))
    role: Role = Field(description="The caller's role in this organization.")


class OrgsOut(Out):
    orgs: list[OrgOut]
    next_cursor: str | None = Field(description="Pass as `cursor` to get the next page; null at the end.")


class MemberIn(In):
    email: Email
    role: Role


class MemberOut(Out):
    email: str
    role: Role
    added_at: Instant
    added_by: str


class MembersOut(Out):
    members: list[MemberOut]


class HistoryOut(Out):
    events: list[HistoryEvent]
    next_cursor: str | None = Field(description="Pass as `cursor` to get the next (older) page; null at the end.")

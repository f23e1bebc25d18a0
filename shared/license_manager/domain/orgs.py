"""Organizations, their members, and why a membership change is refused."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from license_manager.domain.errors import Conflict, NotFound
from license_manager.domain.identity import Role

_ORG_ID = re.compile(r"^org_[0-9a-z]{20}$")


@dataclass(frozen=True, slots=True)
class Org:
    org_id: str
    name: str
    created_at: datetime
    created_by: str
    owner_count: int = 1


@dataclass(frozen=True, slots=True)
class Member:
    org_id: str
    org_name: str
    email: str
    role: Role
    added_at: datetime
    added_by: str


def owner_delta(before: Role | None, after: Role | None) -> int:
    """How the number of owners changes when a member goes from `before` to `after`."""
    return int(after is Role.OWNER) - int(before is Role.OWNER)


def possible_org_id(org_id: str) -> bool:
    """Ids this service could have made; anything else is answered 404 without a database call."""
    return _ORG_ID.match(org_id) is not None


def org_not_found() -> NotFound:
    """The one answer for an org that does not exist AND for one the caller is not a member of:
    no hint that it exists (docs/rules.md, rule 9)."""
    return NotFound("Organization not found.")


def not_a_member(email: str) -> NotFound:
    return NotFound(f"{email} is not a member of this organization.")


def already_member(email: str, role: Role | None = None) -> Conflict:
    detail = f"{email} is already a member" + (f" with the role {role.value}." if role else ".")
    return Conflict(detail, code="already_member")


MAX_MEMBERS = 1000  # the org item keeps every member's role (one read authorizes the overview)


def too_many_members() -> Conflict:
    return Conflict(
        f"An organization has at most {MAX_MEMBERS} members. Remove members who no longer need access first.",
        code="too_many_members",
    )


def last_owner() -> Conflict:
    return Conflict("This is the organization's last owner. Make another member owner first.", code="last_owner")


def membership_changed() -> Conflict:
    return Conflict("The membership changed while the request ran; read it again and retry.")

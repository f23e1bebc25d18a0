"""Organizations and their members."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from license_manager.domain.identity import Role


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

"""Who is calling, and what each role may do."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from license_manager.domain.errors import Forbidden, InvalidInput

VENDOR_ADMIN_GROUP = "vendor-admin"

# Deliberately simple: one @, no spaces, a dot in the domain. Mail servers decide the rest.
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
MAX_EMAIL_LENGTH = 254


class Role(StrEnum):
    OWNER = "owner"
    ADMIN = "admin"
    VIEWER = "viewer"


_RANK = {Role.VIEWER: 1, Role.ADMIN: 2, Role.OWNER: 3}


def role_allows(role: Role, required: Role) -> bool:
    """Roles are nested: an owner may do what an admin may, an admin what a viewer may."""
    return _RANK[role] >= _RANK[required]


def require_role(role: Role, required: Role) -> None:
    if not role_allows(role, required):
        raise Forbidden(f"This needs the {required.value} role in the organization; you are {role.value}.")


def normalize_email(value: str) -> str:
    """Emails identify members: compare them trimmed and lower-cased."""
    email = value.strip().lower()
    if len(email) > MAX_EMAIL_LENGTH or not _EMAIL.match(email):
        raise InvalidInput(f"'{value}' is not an email address.", field="email")
    return email


def parse_groups(raw: object) -> frozenset[str]:
    """Read the `cognito:groups` claim in every form it arrives in.

    The HTTP API JWT authorizer flattens array claims to ONE string, bracketed and
    space-separated (`"[vendor-admin support]"`); tests and other callers may pass a list.
    """
    if raw is None:
        return frozenset()
    if isinstance(raw, (list, tuple, set, frozenset)):
        return frozenset(str(g).strip() for g in raw if str(g).strip())
    text = str(raw).strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    parts = re.split(r"[\s,]+", text)
    return frozenset(p.strip("\"'") for p in parts if p.strip("\"'"))


@dataclass(frozen=True, slots=True)
class Caller:
    """The signed-in user, from the token's claims."""

    sub: str
    email: str
    groups: frozenset[str] = frozenset()

    @property
    def is_vendor_admin(self) -> bool:
        return VENDOR_ADMIN_GROUP in self.groups

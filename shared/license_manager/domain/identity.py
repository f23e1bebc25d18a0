"""Who is calling, and what each role may do (docs/rules.md, rule 9)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from enum import StrEnum

from license_manager.domain.errors import Forbidden, InvalidInput
from license_manager.domain.text import clean_email

VENDOR_ADMIN_GROUP = "vendor-admin"


class Role(StrEnum):
    OWNER = "owner"
    ADMIN = "admin"
    VIEWER = "viewer"


_RANKED = (Role.VIEWER, Role.ADMIN, Role.OWNER)  # each may do what the ones before it may


def roles_at_least(min_role: Role) -> tuple[Role, ...]:
    """THE role rule: the roles that may do what `min_role` may. Both the check made when the
    membership is read and the condition re-checked inside a transaction come from it."""
    return _RANKED[_RANKED.index(min_role) :]


def role_allows(role: Role, min_role: Role) -> bool:
    return role in roles_at_least(min_role)


def role_refused(role: Role | str | None, min_role: Role) -> Forbidden:
    held = role.value if isinstance(role, Role) else str(role)
    return Forbidden(f"This needs the {min_role.value} role in the organization; you are {held}.")


def normalize_email(value: str, field: str = "email") -> str:
    """Emails identify members: compared trimmed, lower-cased, in Unicode normal form C."""
    try:
        return clean_email(value)
    except ValueError as err:
        raise InvalidInput(f"{field} {err}.", field=field) from err


# The HTTP API JWT authorizer hands an array claim to the function as ONE string: the values
# joined by single spaces inside brackets ("[vendor-admin support]"). Group names never hold
# whitespace or brackets.
_AUTHORIZER_ARRAY = re.compile(r"^\[([^\s\[\]]+(?: [^\s\[\]]+)*)?\]$")


def _names(values: object) -> frozenset[str]:
    if not isinstance(values, (list, tuple, set, frozenset)):
        return frozenset()
    return frozenset(v for v in values if isinstance(v, str) and v and not re.search(r"[\s\[\]]", v))


def parse_groups(raw: object) -> frozenset[str]:
    """The `cognito:groups` claim, read in exactly the forms it arrives in: the authorizer's
    bracketed string, a JSON array, or a real list. Anything else carries no group."""
    if raw is None or isinstance(raw, (list, tuple, set, frozenset)):
        return _names(raw)
    if not isinstance(raw, str):
        return frozenset()
    if raw.startswith('["') or raw == "[]":
        try:
            return _names(json.loads(raw))
        except ValueError:
            return frozenset()
    match = _AUTHORIZER_ARRAY.match(raw)
    if match is None or match.group(1) is None:
        return frozenset()
    return frozenset(match.group(1).split(" "))


@dataclass(frozen=True, slots=True)
class Caller:
    """The signed-in user, from the token's claims."""

    sub: str
    email: str
    groups: frozenset[str] = frozenset()

    @property
    def is_vendor_admin(self) -> bool:
        return VENDOR_ADMIN_GROUP in self.groups

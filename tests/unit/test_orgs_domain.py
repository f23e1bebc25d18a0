from __future__ import annotations

from datetime import UTC, datetime

import pytest

from license_manager.domain.errors import Conflict
from license_manager.domain.identity import Role
from license_manager.domain.orgs import Member, check_not_last_owner, owner_delta

NOW = datetime(2027, 1, 15, 10, tzinfo=UTC)


def member(role: Role) -> Member:
    return Member("org_x", "Acme", "a@example.com", role, NOW, "a@example.com")


def test_owner_delta() -> None:
    assert owner_delta(None, Role.OWNER) == 1
    assert owner_delta(Role.OWNER, None) == -1
    assert owner_delta(Role.OWNER, Role.ADMIN) == -1
    assert owner_delta(Role.VIEWER, Role.ADMIN) == 0


def test_last_owner_is_kept() -> None:
    with pytest.raises(Conflict):
        check_not_last_owner(member(Role.OWNER), owner_count=1, after=None)
    with pytest.raises(Conflict):
        check_not_last_owner(member(Role.OWNER), owner_count=1, after=Role.VIEWER)
    check_not_last_owner(member(Role.OWNER), owner_count=2, after=None)
    check_not_last_owner(member(Role.ADMIN), owner_count=1, after=None)

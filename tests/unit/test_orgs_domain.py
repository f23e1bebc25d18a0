from __future__ import annotations

from license_manager.domain.identity import Role
from license_manager.domain.orgs import owner_delta


def test_owner_delta() -> None:
    assert owner_delta(None, Role.OWNER) == 1
    assert owner_delta(Role.OWNER, None) == -1
    assert owner_delta(Role.OWNER, Role.ADMIN) == -1
    assert owner_delta(Role.VIEWER, Role.ADMIN) == 0
    assert owner_delta(Role.ADMIN, Role.OWNER) == 1

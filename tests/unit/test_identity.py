"""Claims, emails and roles: pure rules."""

from __future__ import annotations

import pytest

from license_manager.api.auth import caller_from_claims
from license_manager.domain.errors import InvalidInput, Unauthenticated
from license_manager.domain.identity import Role, normalize_email, parse_groups, role_allows, roles_at_least


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("[vendor-admin support]", {"vendor-admin", "support"}),  # what the HTTP API JWT authorizer sends
        ("[vendor-admin]", {"vendor-admin"}),
        ("[]", set()),
        (["vendor-admin", "support"], {"vendor-admin", "support"}),  # a real list
        ('["vendor-admin","support"]', {"vendor-admin", "support"}),
        (None, set()),
    ],
)
def test_groups_claim_is_read_in_every_form(raw: object, expected: set[str]) -> None:
    assert parse_groups(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "vendor-admin",  # not a form the authorizer produces
        "x,vendor-admin",
        "[x,vendor-admin]",
        '"vendor-admin"',
        "'vendor-admin'",
        "vendor-admin\t",
        "[vendor-admin\t]",
        "[ vendor-admin]",
        "[vendor-admin  support]",
        "[[vendor-admin]]",
        '["vendor-admin\t"]',
        '["vendor admin"]',
        '{"vendor-admin": 1}',
        "[vendor-admin",
        ["vendor-admin "],
        [["vendor-admin"]],
        5,
    ],
)
def test_groups_claim_in_any_other_form_carries_no_vendor_admin(raw: object) -> None:
    # Given a groups claim that is not exactly what the JWT authorizer produces
    # When it is read, Then it does not make the caller vendor staff
    assert "vendor-admin" not in parse_groups(raw)


VERIFIED = {"email_verified": "true"}


def test_caller_from_authorizer_claims() -> None:
    caller = caller_from_claims(
        {"sub": "abc", "email": " Alice@Example.COM ", "cognito:groups": "[vendor-admin]", **VERIFIED}
    )
    assert caller.email == "alice@example.com"
    assert caller.is_vendor_admin


def test_a_group_named_like_vendor_admin_is_not_vendor_admin() -> None:
    claims = {"sub": "a", "email": "a@b.co", "cognito:groups": "[vendor-admins]", **VERIFIED}
    assert not caller_from_claims(claims).is_vendor_admin


@pytest.mark.parametrize(
    "claims",
    [
        None,
        {},
        {"sub": "x", **VERIFIED},
        {"email": "a@b.co", **VERIFIED},
        {"sub": "x", "email": "nope", **VERIFIED},
        {"sub": "x", "email": "a@b.co"},  # no email_verified claim
        {"sub": "x", "email": "a@b.co", "email_verified": "false"},  # someone else's address, unverified
    ],
)
def test_claims_without_a_user_are_unauthenticated(claims: dict[str, str] | None) -> None:
    with pytest.raises(Unauthenticated):
        caller_from_claims(claims)


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "a",
        "000",
        "a@b",
        "a b@c.de",
        "@c.de",
        "a@@c.de",
        "x" * 65 + "@c.de",
        "\u202eadmin@x.com",
        "ad\u200bmin@x.com",
        "admin@x.com\u0000",
        "a\tb@x.com",
        "a@x..com",
        "a@.x.com",
    ],
)
def test_invalid_emails_are_refused(bad: str) -> None:
    with pytest.raises(InvalidInput):
        normalize_email(bad)


def test_roles_are_nested() -> None:
    assert role_allows(Role.OWNER, Role.ADMIN)
    assert role_allows(Role.ADMIN, Role.VIEWER)
    assert not role_allows(Role.VIEWER, Role.ADMIN)
    assert not role_allows(Role.ADMIN, Role.OWNER)
    assert roles_at_least(Role.ADMIN) == (Role.ADMIN, Role.OWNER)  # the in-transaction condition's roles

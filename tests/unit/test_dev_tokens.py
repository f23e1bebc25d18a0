"""The dev server's tokens and the claims it hands to functions (no sockets)."""

from __future__ import annotations

import time

import jwt
import pytest

from devserver.tokens import AUDIENCE, ISSUER, InvalidToken, TokenIssuer, authorizer_claims
from license_manager.api.auth import caller_from_claims


def test_issued_tokens_verify_and_become_a_caller_with_groups() -> None:
    issuer = TokenIssuer()
    token, _ = issuer.issue("Vera@Example.com", ["vendor-admin", "support"])
    claims = authorizer_claims(issuer.verify(token))
    assert claims["cognito:groups"] == "[vendor-admin support]"  # the JWT authorizer's flattened form
    assert all(isinstance(v, str) for v in claims.values())
    caller = caller_from_claims(claims)
    assert caller.email == "vera@example.com"
    assert caller.is_vendor_admin


def test_same_email_same_sub() -> None:
    issuer = TokenIssuer()
    a = issuer.verify(issuer.issue("a@example.com", [])[0])
    b = issuer.verify(issuer.issue("A@example.com", [])[0])
    assert a["sub"] == b["sub"]


@pytest.mark.parametrize("kind", ["other secret", "alg none", "expired", "wrong audience", "HS512"])
def test_tokens_it_did_not_sign_are_refused(kind: str) -> None:
    issuer = TokenIssuer(secret=b"s" * 32)
    now = int(time.time())
    claims = {"sub": "x", "email": "x@example.com", "iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": now + 60}
    if kind == "other secret":
        token = jwt.encode(claims, b"t" * 32, algorithm="HS256")
    elif kind == "alg none":
        token = jwt.encode(claims, "", algorithm="none")
    elif kind == "expired":
        token = jwt.encode({**claims, "exp": now - 5}, b"s" * 32, algorithm="HS256")
    elif kind == "wrong audience":
        token = jwt.encode({**claims, "aud": "other"}, b"s" * 32, algorithm="HS256")
    else:
        token = jwt.encode(claims, b"s" * 64, algorithm="HS512")
    with pytest.raises(InvalidToken):
        issuer.verify(token)

"""Claims -> Caller. In AWS the HTTP API JWT authorizer has already verified the token."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from license_manager.domain.errors import InvalidInput, Unauthenticated
from license_manager.domain.identity import Caller, normalize_email, parse_groups


def caller_from_claims(claims: Mapping[str, Any] | None) -> Caller:
    if not claims:
        raise Unauthenticated("This request needs a signed-in user (Authorization: Bearer <token>).")
    sub = str(claims.get("sub") or "").strip()
    email = str(claims.get("email") or "").strip()
    if not sub or not email:
        raise Unauthenticated("The token has no user email; sign in again and send the ID token.")
    if str(claims.get("email_verified", "")).strip().lower() != "true":
        # members are identified by email: an unverified one could claim an invitation
        raise Unauthenticated("Verify your email address, then sign in again.")
    try:
        normalized = normalize_email(email)
    except InvalidInput as err:
        raise Unauthenticated("The token's email claim is not an email address.") from err
    return Caller(sub=sub, email=normalized, groups=parse_groups(claims.get("cognito:groups")))

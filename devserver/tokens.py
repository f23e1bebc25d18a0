"""Dev tokens: HS256 JWTs signed with a secret made at start-up, verified on every request.

Only tokens this server signed pass: a bad signature, `alg: none`, another algorithm, a wrong
issuer or audience, or an expired token gets 401. Claims reach the handlers the way the HTTP API
JWT authorizer passes them in AWS: every value a string, arrays as ONE bracketed,
space-separated string (`"[vendor-admin support]"`).
"""

from __future__ import annotations

import re
import secrets
import time
import uuid
from typing import Any

import jwt

AUDIENCE = "license-manager-dev"
ISSUER = "https://license-manager.local/dev"
DEFAULT_TTL = 12 * 3600


class InvalidToken(Exception):
    pass


def valid_group(name: object) -> bool:
    """Group names hold no whitespace or brackets (the authorizer's array form could not carry them)."""
    return isinstance(name, str) and re.fullmatch(r"[^\s\[\]\x00-\x1f]{1,128}", name) is not None


class TokenIssuer:
    def __init__(self, secret: bytes | None = None) -> None:
        self._secret = secret or secrets.token_bytes(32)

    def issue(self, email: str, groups: list[str], ttl_seconds: int = DEFAULT_TTL) -> tuple[str, int]:
        """Token lifetimes follow the real clock, not the dev clock, so moving time keeps you signed in."""
        now = int(time.time())
        email = email.strip().lower()
        claims = {
            "sub": str(uuid.uuid5(uuid.NAMESPACE_URL, "mailto:" + email)),
            "email": email,
            "email_verified": True,
            "cognito:groups": groups,
            "iss": ISSUER,
            "aud": AUDIENCE,
            "token_use": "id",
            "iat": now,
            "exp": now + ttl_seconds,
        }
        return jwt.encode(claims, self._secret, algorithm="HS256"), now + ttl_seconds

    def verify(self, token: str) -> dict[str, Any]:
        try:
            return dict(
                jwt.decode(
                    token,
                    self._secret,
                    algorithms=["HS256"],
                    audience=AUDIENCE,
                    issuer=ISSUER,
                    options={"require": ["exp", "iat", "sub", "iss", "aud"]},
                )
            )
        except jwt.PyJWTError as err:
            raise InvalidToken(str(err)) from err


def authorizer_claims(claims: dict[str, Any]) -> dict[str, str]:
    """Claims as API Gateway's JWT authorizer hands them to the function."""
    out: dict[str, str] = {}
    for name, value in claims.items():
        if isinstance(value, (list, tuple)):
            out[name] = "[" + " ".join(str(v) for v in value) + "]"
        elif isinstance(value, bool):
            out[name] = "true" if value else "false"
        else:
            out[name] = str(value)
    return out

"""Opaque page cursors: base64url JSON of where the last page ended, bound to what was listed.

A cursor names the list it belongs to (an org's history, a user's orgs), so one cannot be
replayed against another; a cursor that does not decode, or belongs elsewhere, is 422.
"""

from __future__ import annotations

import base64
import binascii
import json

from license_manager.domain.errors import InvalidInput

MAX_CURSOR_LENGTH = 1024


def encode(bound_to: str, position: dict[str, str]) -> str:
    raw = json.dumps({"b": bound_to, "p": position}, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(bound_to: str, cursor: str) -> dict[str, str]:
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        position = data["p"]
        valid = (
            len(cursor) <= MAX_CURSOR_LENGTH
            and data["b"] == bound_to
            and isinstance(position, dict)
            and all(isinstance(k, str) and isinstance(v, str) and v for k, v in position.items())
        )
    except (binascii.Error, ValueError, KeyError, TypeError, UnicodeDecodeError):
        valid = False
    if not valid:
        raise InvalidInput("cursor is not one this API returned for this list.", field="cursor")
    return dict(position)

"""Identifiers: random, URL-safe, and (for events) sortable by time."""

from __future__ import annotations

import secrets
from datetime import datetime

from license_manager.domain.timefmt import ensure_utc

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford base32, lower case


def _random_symbols(count: int) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(count))


def new_org_id() -> str:
    """`org_` + 20 symbols (100 random bits)."""
    return "org_" + _random_symbols(20)


def new_event_id(at: datetime, seq: int = 0) -> str:
    """Sorts by time as text (the history is read newest first). `seq` orders the events of one
    change (written at the same instant); the random suffix keeps ids unique."""
    if not 0 <= seq < 100:
        raise ValueError("one change writes at most 100 events")
    at = ensure_utc(at)
    return f"{at.year:04d}" + at.strftime("%m%dT%H%M%S") + f"{at.microsecond:06d}Z{seq:02d}" + _random_symbols(8)

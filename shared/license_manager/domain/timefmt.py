"""UTC instants in and out: ISO 8601 with a `Z`, millisecond precision."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import PlainSerializer, WithJsonSchema


def ensure_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("naive datetime: every instant in License Manager is timezone-aware UTC")
    return value.astimezone(UTC)


def to_iso(value: datetime) -> str:
    """`2027-01-15T10:00:00.000Z`: sortable as text, which the table's sort keys rely on."""
    value = ensure_utc(value)
    return f"{value.year:04d}-" + value.strftime("%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def parse_iso(text: str) -> datetime:
    """Parse an ISO 8601 instant; an instant without an offset is refused, not guessed."""
    parsed = datetime.fromisoformat(text.strip().replace("z", "Z").replace("Z", "+00:00"))
    return ensure_utc(parsed)


Instant = Annotated[
    datetime,
    PlainSerializer(to_iso, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time", "examples": ["2027-01-15T10:00:00.000Z"]}),
]

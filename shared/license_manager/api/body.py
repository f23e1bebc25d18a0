"""The request body, checked before any route sees it.

The API speaks JSON objects. A body is refused, with a problem+json answer and before anything
is read or written, when it is:
- larger than MAX_BODY_BYTES (413);
- sent as a media type that is not JSON (415): `application/json` or `application/<x>+json`,
  compared case-insensitively, with no charset other than UTF-8;
- not UTF-8, not JSON, nested deeper than MAX_DEPTH, or using NaN/Infinity (400);
- JSON but not an object (an array, a string...) or an object that repeats a member name,
  which parsers resolve differently (422, naming the field).
A body that passes is handed to the route as `application/json`.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass, field
from typing import Any

MAX_BODY_BYTES = 64 * 1024
MAX_DEPTH = 32

_JSON_MEDIA = re.compile(r"^application/(?:[a-z0-9.+-]+\+)?json$")
_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)


@dataclass
class BodyRefused(Exception):
    status: int
    title: str
    detail: str
    extra: dict[str, Any] = field(default_factory=dict)


def _bad_request(detail: str) -> BodyRefused:
    return BodyRefused(400, "Malformed JSON", detail)


def _media_type(content_type: str) -> tuple[str, dict[str, str]]:
    media, *params = content_type.split(";")
    parsed: dict[str, str] = {}
    for param in params:
        name, _, value = param.partition("=")
        parsed[name.strip().lower()] = value.strip().strip('"').lower()
    return media.strip().lower(), parsed


def _check_media_type(content_type: str | None) -> None:
    if content_type is None or not content_type.strip():
        return  # no Content-Type: read as JSON
    media, params = _media_type(content_type)
    charset = params.get("charset", "utf-8")
    if not _JSON_MEDIA.match(media) or charset not in {"utf-8", "utf8"}:
        raise BodyRefused(
            415,
            "Unsupported media type",
            f"Send JSON (Content-Type: application/json; UTF-8), not {content_type.split(';')[0].strip()[:100]}.",
        )


def depth(text: str) -> int:
    """How deeply arrays and objects nest in a JSON text (strings skipped)."""
    deepest = level = 0
    for bracket in re.sub(r"[^\[\]{}]", "", _STRINGS.sub("", text)):
        level += 1 if bracket in "[{" else -1
        deepest = max(deepest, level)
    return deepest


class _Duplicate(ValueError):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for name, value in pairs:
        if name in result:
            raise _Duplicate(name)
        result[name] = value
    return result


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def parse(raw: str | None, is_base64: bool, content_type: str | None) -> tuple[str, dict[str, Any]] | None:
    """The body's text and its object, or None when there is no body; raises BodyRefused."""
    if raw is None or raw == "":
        return None
    try:
        data = base64.b64decode(raw, validate=True) if is_base64 else raw.encode("utf-8", "surrogatepass")
    except (binascii.Error, ValueError) as err:
        raise _bad_request("The request body could not be decoded.") from err
    if len(data) > MAX_BODY_BYTES:
        raise BodyRefused(413, "Payload too large", f"The body is over {MAX_BODY_BYTES // 1024} KB.")
    _check_media_type(content_type)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise _bad_request("The request body is not UTF-8 text.") from err
    if depth(text) > MAX_DEPTH:
        raise _bad_request(f"The request body nests deeper than {MAX_DEPTH} levels.")
    try:
        value = json.loads(text, object_pairs_hook=_object, parse_constant=_no_constants)
    except _Duplicate as dup:
        raise BodyRefused(
            422,
            "Invalid request",
            f"{dup.name}: given more than once; send each field once.",
            {
                "field": dup.name,
                "errors": [{"field": dup.name, "message": "given more than once", "type": "duplicate_field"}],
            },
        ) from dup
    except (ValueError, RecursionError) as err:
        raise _bad_request("The request body is not valid JSON.") from err
    if not isinstance(value, dict):
        raise BodyRefused(
            422,
            "Invalid request",
            "body: must be a JSON object ({...}).",
            {"field": "body", "errors": [{"field": "body", "message": "must be a JSON object", "type": "object_type"}]},
        )
    return text, value

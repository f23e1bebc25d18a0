"""RFC 9457 problem details, the body of every 4xx/5xx answer."""

from __future__ import annotations

import json
import re
from typing import Any

from aws_lambda_powertools.event_handler import Response

PROBLEM_CONTENT_TYPE = "application/problem+json"


def _slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


def problem(status: int, title: str, detail: str, headers: dict[str, str] | None = None, **extra: Any) -> Response[str]:
    body: dict[str, Any] = {
        "type": f"urn:license-manager:problem:{_slug(title)}",
        "title": title,
        "status": status,
        "detail": detail,
    }
    body.update({k: v for k, v in extra.items() if v is not None})
    return Response(
        status_code=status,
        content_type=PROBLEM_CONTENT_TYPE,
        body=json.dumps(body, default=str),
        headers=headers or {},
    )

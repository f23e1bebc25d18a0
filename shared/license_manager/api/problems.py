"""RFC 9457 problem details: the body of every 4xx/5xx answer, built here and nowhere else
(the route handlers' errors, the gateway checks in `serve`, and the local dev server)."""

from __future__ import annotations

import json
import re
from typing import Any

from aws_lambda_powertools.event_handler import Response

PROBLEM_CONTENT_TYPE = "application/problem+json"


def _slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


def problem_body(status: int, title: str, detail: str, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": f"urn:license-manager:problem:{_slug(title)}",
        "title": title,
        "status": status,
        "detail": detail,
    }
    body.update({k: v for k, v in extra.items() if v is not None})
    return body


def problem_json(status: int, title: str, detail: str, **extra: Any) -> str:
    return json.dumps(problem_body(status, title, detail, **extra), default=str)


def problem(status: int, title: str, detail: str, headers: dict[str, str] | None = None, **extra: Any) -> Response[str]:
    """For a route handler (Powertools Response)."""
    return Response(
        status_code=status,
        content_type=PROBLEM_CONTENT_TYPE,
        body=problem_json(status, title, detail, **extra),
        headers=headers or {},
    )


def problem_result(
    status: int, title: str, detail: str, headers: dict[str, str] | None = None, **extra: Any
) -> dict[str, Any]:
    """For a Lambda proxy result (an answer given before the resolver runs)."""
    return {
        "statusCode": status,
        "headers": {"Content-Type": PROBLEM_CONTENT_TYPE, **(headers or {})},
        "body": problem_json(status, title, detail, **extra),
    }

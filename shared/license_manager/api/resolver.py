"""The resolver factory every function uses, and the caller of the current request."""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from license_manager.api import errors
from license_manager.api.auth import caller_from_claims
from license_manager.api.problems import PROBLEM_CONTENT_TYPE
from license_manager.api.schemas import Problem
from license_manager.domain.identity import Caller


def make_resolver() -> APIGatewayHttpResolver:
    app = APIGatewayHttpResolver(
        enable_validation=True,
        # a handler returning the wrong shape is our bug: 500, not the client's 422
        response_validation_error_http_code=HTTPStatus.INTERNAL_SERVER_ERROR,
    )
    errors.register(app)
    return app


def current_caller(app: APIGatewayHttpResolver) -> Caller:
    authorizer = app.current_event.request_context.authorizer
    claims = authorizer.jwt_claim if authorizer is not None else None
    return caller_from_claims(claims)


def _is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or media.endswith("+json")


def serve(app: APIGatewayHttpResolver, event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Resolve one API event. The API speaks JSON: a body sent as anything else gets 415."""
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    content_type = headers.get("content-type", "")
    if event.get("body") and content_type and not _is_json(content_type):
        return {
            "statusCode": 415,
            "headers": {"Content-Type": PROBLEM_CONTENT_TYPE},
            "body": json.dumps(
                {
                    "type": "urn:license-manager:problem:unsupported-media-type",
                    "title": "Unsupported media type",
                    "status": 415,
                    "detail": f"Send JSON with Content-Type: application/json, not {content_type.split(';')[0]}.",
                }
            ),
        }
    return app.resolve(event, context)


_PROBLEM_DESCRIPTIONS = {
    400: "Malformed JSON",
    401: "Not signed in",
    403: "The caller's role is too weak",
    404: "Not found, or not a member of the organization",
    409: "Conflict with the current state",
    410: "Gone",
    415: "The body is not JSON",
    422: "Invalid input; `errors[].field` or `field` names it",
    429: "Too many requests; see Retry-After",
    500: "Internal error (opaque; details are logged)",
    503: "Busy; retry after Retry-After",
}


def responses(
    ok: int,
    model: type[BaseModel] | None,
    description: str,
    *errors: int,
    also: dict[int, OpenAPIResponse] | None = None,
) -> dict[int, OpenAPIResponse]:
    """OpenAPI entries for a route: its success answer and the problem+json answers it can give
    (401, 422 and 500 can come from every route)."""
    documented: dict[int, OpenAPIResponse] = {ok: {"description": description}}
    if model is not None:
        documented[ok]["content"] = {"application/json": {"model": model}}
    for status in sorted({401, 422, 500, *errors}):
        documented[status] = {
            "description": _PROBLEM_DESCRIPTIONS[status],
            "content": {PROBLEM_CONTENT_TYPE: {"model": Problem}},
        }
    documented.update(also or {})
    return documented

"""The resolver factory every function uses, and what a route needs of the current request: the
caller, its Idempotency-Key, and one way to turn a use case's result into the answer."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from http import HTTPStatus
from typing import TYPE_CHECKING, Annotated, Any, TypeVar, cast

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.openapi.params import Header
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from license_manager import deadline
from license_manager.api import body as request_body
from license_manager.api import errors
from license_manager.api.auth import caller_from_claims
from license_manager.api.problems import PROBLEM_CONTENT_TYPE, problem_result
from license_manager.api.schemas.common import Problem
from license_manager.domain.errors import DomainError, Unauthenticated
from license_manager.domain.identity import Caller
from license_manager.observability import log_metrics, logger, tracer

if TYPE_CHECKING:  # imported by the routes that take an Idempotency-Key, when they do
    from license_manager.services.unit_of_work import RequestKey

M = TypeVar("M", bound=BaseModel)

IDEMPOTENCY_KEY_PATTERN = r"^[\x21-\x7e]{8,255}$"
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        pattern=IDEMPOTENCY_KEY_PATTERN,
        description="Any unique string (8-255 visible ASCII characters, e.g. a UUID). A retry with the same key "
        "within 24 h gets the first answer and changes nothing; the same key with another request is 422.",
    ),
]


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
    caller = caller_from_claims(claims)
    logger.append_keys(caller_sub=caller.sub)
    return caller


def system_credential(app: APIGatewayHttpResolver) -> str:
    """An installed system's credential (`Authorization: Bearer <credential>`); these routes are
    not behind the user authorizer: the use case checks the credential itself."""
    scheme, _, credential = (app.current_event.headers.get("authorization") or "").partition(" ")
    if scheme.lower() != "bearer" or not credential.strip():
        raise Unauthenticated("This route needs the system's credential: Authorization: Bearer <credential>.")
    return credential.strip()


def request_key(app: APIGatewayHttpResolver, caller: Caller | str, idempotency_key: str | None) -> RequestKey | None:
    """The Idempotency-Key of this caller (a user, or who an installed system's request speaks
    for), and what makes this request this request."""
    if idempotency_key is None:
        return None
    from license_manager.services.unit_of_work import RequestKey  # noqa: PLC0415 - only routes with the header

    owner = caller.email if isinstance(caller, Caller) else caller
    event = app.current_event
    body = event.json_body if event.body else None
    canonical = json.dumps({"m": event.http_method, "p": event.path, "b": body}, sort_keys=True, separators=(",", ":"))
    return RequestKey(
        scope=hashlib.sha256(f"{owner}\n{idempotency_key}".encode()).hexdigest(),
        fingerprint=hashlib.sha256(canonical.encode()).hexdigest(),
    )


def answer(model: type[M], result: object) -> M:
    """The one way a route turns a use case's result into its answer: `model` read from the
    result's attributes."""
    return model.model_validate(result, from_attributes=True)


def answer_with(status: int, model: type[M], result: object) -> Response[M]:
    """`answer`, for a route whose status depends on the result (created or changed, dry run)."""
    return Response(status_code=status, content_type="application/json", body=answer(model, result))


def _headers(event: dict[str, Any]) -> dict[str, str]:
    return {k.lower(): v for k, v in (event.get("headers") or {}).items()}


BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


def _checked_body(event: dict[str, Any]) -> dict[str, Any]:
    """The event with its body checked (api/body.py) and declared as plain JSON. Methods that
    take no body have theirs ignored."""
    headers = _headers(event)
    method = str(event.get("requestContext", {}).get("http", {}).get("method", "")).upper()
    if method not in BODY_METHODS:
        return {**event, "body": None, "isBase64Encoded": False}
    parsed = request_body.parse(event.get("body"), bool(event.get("isBase64Encoded")), headers.get("content-type"))
    if parsed is None:
        return event
    text, _value = parsed
    return {**event, "body": text, "isBase64Encoded": False, "headers": {**headers, "content-type": "application/json"}}


def _without_body(result: dict[str, Any]) -> dict[str, Any]:
    """204 and 304 answers carry no body (a body would be read as the next response)."""
    headers = {k: v for k, v in (result.get("headers") or {}).items() if k.lower() != "content-type"}
    return {**result, "headers": headers, "body": "", "isBase64Encoded": False}


def handler(app: APIGatewayHttpResolver) -> Callable[[dict[str, Any], LambdaContext], dict[str, Any]]:
    """A function's `lambda_handler`: `serve`, traced, its metrics flushed, and the request's
    correlation id (and org id) in every log line."""

    @logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True)
    @tracer.capture_lambda_handler(capture_response=False)
    @log_metrics
    def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        org_id = (event.get("pathParameters") or {}).get("org_id")
        if org_id:
            logger.append_keys(org_id=org_id)
        return serve(app, event, context)

    return cast(Callable[[dict[str, Any], LambdaContext], dict[str, Any]], lambda_handler)


def serve(app: APIGatewayHttpResolver, event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Resolve one API event within the invocation's time budget."""
    try:
        event = _checked_body(event)
    except request_body.BodyRefused as refused:
        return problem_result(refused.status, refused.title, refused.detail, **refused.extra)
    with deadline.invocation(context.get_remaining_time_in_millis):
        result = app.resolve(event, context)
    if int(result.get("statusCode", 200)) in (204, 304):
        return _without_body(result)
    return result


# -- OpenAPI: what each route answers ---------------------------------------------------------------

_PROBLEM_DESCRIPTIONS = {
    400: "Malformed body: not UTF-8, not JSON, or nested too deep",
    401: "Not signed in",
    403: "The caller's role is too weak",
    404: "Not found, or not a member of the organization",
    409: "Conflict with the current state",
    410: "Gone",
    413: "The body is too large",
    415: "The body is not JSON",
    422: "Invalid input; `errors[].field` or `field` names it",
    429: "Too many requests; see Retry-After",
    500: "Internal error (opaque; details are logged)",
    503: "Busy; retry after Retry-After",
}


def problem_response(status: int) -> OpenAPIResponse:
    return {"description": _PROBLEM_DESCRIPTIONS[status], "content": {PROBLEM_CONTENT_TYPE: {"model": Problem}}}


def raised_by(*use_cases: Callable[..., Any]) -> set[int]:
    """The statuses the use cases can answer with, from the errors each declares it raises."""
    raised: Sequence[type[DomainError]] = [e for uc in use_cases for e in getattr(uc, "__raises__", ())]
    return {errors.status_of(e) for e in raised}


def responses(
    ok: int,
    model: type[BaseModel] | None,
    description: str,
    *use_cases: Callable[..., Any],
    also: dict[int, OpenAPIResponse] | None = None,
) -> dict[int, OpenAPIResponse]:
    """OpenAPI entries for a route: its success answer and the problem+json answers its use cases
    can give. What every route can answer (401, 500; 400/413/415/422 with a body...) is added
    where the OpenAPI document is built, from the route's own shape."""
    documented: dict[int, OpenAPIResponse] = {ok: {"description": description}}
    if model is not None:
        documented[ok]["content"] = {"application/json": {"model": model}}
    for status in sorted(raised_by(*use_cases)):
        documented[status] = problem_response(status)
    documented.update(also or {})
    return documented

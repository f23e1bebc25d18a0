"""All status mapping in one place: exception -> problem+json response."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError, ResponseValidationError

from license_manager.api.problems import problem
from license_manager.domain import errors
from license_manager.observability import count_by_function, logger

STATUS: dict[type[errors.DomainError], int] = {
    errors.InvalidInput: 422,
    errors.Unauthenticated: 401,
    errors.Forbidden: 403,
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.Gone: 410,
    errors.Throttled: 429,
    errors.Unavailable: 503,
}


def status_of(error: type[errors.DomainError]) -> int:
    return next((status for cls, status in STATUS.items() if issubclass(error, cls)), 400)


_LOCATIONS = {"body", "query", "path", "header", "cookie"}


def _field(loc: Sequence[Any]) -> str:
    parts = [str(p) for p in loc]
    if len(parts) > 1 and parts[0] in _LOCATIONS:
        parts = parts[1:]
    return ".".join(parts) or "body"


def validation_problem(exc: RequestValidationError) -> Response[str]:
    raw = list(exc.errors())
    if any(e.get("type") == "json_invalid" for e in raw):
        return problem(400, "Malformed JSON", "The request body is not valid JSON.")
    fields = [
        {"field": _field(e.get("loc", ())), "message": str(e.get("msg", "invalid")), "type": e.get("type")} for e in raw
    ]
    summary = "; ".join(f"{f['field']}: {f['message']}" for f in fields)
    single = fields[0]["field"] if len(fields) == 1 else None
    return problem(422, "Invalid request", summary or "The request is not valid.", field=single, errors=fields)


def domain_problem(exc: errors.DomainError) -> Response[str]:
    status = status_of(type(exc))
    headers: dict[str, str] = {}
    retry_after = getattr(exc, "retry_after", None)
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    if status >= 500:
        logger.warning("request refused", extra={"status": status, "detail": exc.detail})
        count_by_function("Unavailable")  # the service said "busy, retry": worth watching
    extra = dict(exc.extra)
    if status == 422 and "field" in extra:  # every 422 names its fields the same way
        extra["errors"] = [{"field": extra["field"], "message": exc.detail, "type": extra.get("code", "invalid")}]
    return problem(status, exc.title, exc.detail, headers=headers, **extra)


def unexpected_problem() -> Response[str]:
    count_by_function("ServerErrors")  # a bug answered as a 500 (Lambda's Errors metric never sees it)
    return problem(500, "Internal error", "Something went wrong on our side. It has been logged.")


def register(app: APIGatewayHttpResolver) -> None:
    def not_found(_exc: NotFoundError) -> Response[str]:
        event = app.current_event
        return problem(404, "Not found", f"No route for {event.http_method} {event.path}.")

    def wrong_answer(exc: ResponseValidationError) -> Response[str]:
        # a handler answered with the wrong shape: our bug, never the client's 422
        logger.error("response failed its own schema", extra={"errors": str(exc.errors())[:2000]})
        return unexpected_problem()

    def unexpected(exc: Exception) -> Response[str]:
        logger.exception("unhandled error", extra={"error_type": type(exc).__name__})
        return unexpected_problem()

    app.exception_handler(RequestValidationError)(validation_problem)
    app.exception_handler(ResponseValidationError)(wrong_answer)
    app.exception_handler(errors.DomainError)(domain_problem)
    app.not_found(not_found)
    app.exception_handler(Exception)(unexpected)

"""Domain errors. The API layer maps each class to one HTTP status in one place."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


class DomainError(Exception):
    """Base class: a rule said no. `title` is short and stable, `detail` explains this case."""

    title = "Request failed"

    def __init__(self, detail: str, **extra: object) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class InvalidInput(DomainError):
    """Input that passed the schema but breaks a rule (bad cursor, bad email...)."""

    title = "Invalid input"


class Unauthenticated(DomainError):
    title = "Not signed in"


class Forbidden(DomainError):
    title = "Not allowed"


class NotFound(DomainError):
    title = "Not found"


class Conflict(DomainError):
    title = "Conflict"


class Gone(DomainError):
    title = "Gone"


class Throttled(DomainError):
    """Too many requests; `retry_after` is in whole seconds."""

    title = "Too many requests"

    def __init__(self, detail: str, retry_after: int = 1, **extra: object) -> None:
        super().__init__(detail, **extra)
        self.retry_after = retry_after


class Unavailable(DomainError):
    """A dependency is overloaded (throttled writes after retries, lost races after retries)."""

    title = "Service busy"

    def __init__(self, detail: str, retry_after: int = 1, **extra: object) -> None:
        super().__init__(detail, **extra)
        self.retry_after = retry_after


class StaleState(Exception):
    """The state changed between read and write (optimistic locking): re-read and decide again.
    Never reaches a client: services retry, then answer Unavailable."""


def raises(*errors: type[DomainError]) -> Callable[[F], F]:
    """Declare the domain errors a use case can raise: the API documents each route's answers
    from them (and the OpenAPI conformance tests check that nothing else comes back)."""

    def mark(use_case: F) -> F:
        use_case.__raises__ = errors  # type: ignore[attr-defined]
        return use_case

    return mark

"""The OpenAPI document, generated from the functions' own resolvers and models.

`make openapi` (python -m tools.openapi) writes docs/openapi.json; a test fails when the
file is stale, and the dev server serves the same document at /openapi.json.

Each route documents its success answer and the problems its use cases declare they raise
(`api.resolver.responses`). What every route can answer because of its shape is added here:
401 behind the authorizer; 400, 413, 415 and 422 with a body; 422 with query or header
parameters; 500 everywhere. Links tell clients (and the API fuzzer's stateful phase) that an
organization created by `POST /orgs` is the `org_id` of the org routes.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from aws_lambda_powertools.event_handler.openapi.compat import model_json
from aws_lambda_powertools.event_handler.openapi.merge import OpenAPIMerge
from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer, OpenAPI

from license_manager import settings
from license_manager.api.problems import PROBLEM_CONTENT_TYPE
from license_manager.api.resolver import BODY_METHODS, problem_response
from tools.functions import load_module
from tools.template import ROOT, function_environment, routes

OUTPUT = ROOT / "docs" / "openapi.json"

DESCRIPTION = (
    "Annual, per-device software subscriptions: trials, activation, license keys, a wallet of spare "
    "licenses, renewals and an audit history. Every request carries `Authorization: Bearer <JWT>` "
    "(a Cognito ID token in AWS; `POST /_dev/token` on the local dev server). Errors are "
    "`application/problem+json` (RFC 9457). Every POST accepts an `Idempotency-Key` header."
)
# Resources a function's environment may name; only their presence matters to build the document.
PLACEHOLDERS = {"Table": "openapi", "AnswersKey": "openapi", "LicenseSigningKey": "openapi"}
SCHEMES: dict[str, Any] = {
    "bearer": HTTPBearer(bearerFormat="JWT", description="A user's ID token (Cognito)"),
    "systemCredential": HTTPBearer(description="An installed system's credential (POST /systems/register)"),
}
_UNUSED = ("HTTPValidationError", "ValidationError", "ResponseValidationError")


@contextmanager
def environment(variables: dict[str, str]) -> Iterator[None]:
    """`variables` set while a function module is imported (its settings are read at import)."""
    saved = dict(os.environ)
    os.environ.update(variables)
    settings.reset()
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)
        settings.reset()


def _problem(status: int) -> dict[str, Any]:
    return {
        "description": problem_response(status)["description"],
        "content": {PROBLEM_CONTENT_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }


def complete(method: str, operation: dict[str, Any]) -> None:
    """Add what the route answers because of its shape (see the module's docstring)."""
    answers: dict[str, Any] = operation["responses"]
    shape: set[int] = {401, 500} if operation.get("security", [{"bearer": []}]) else {500}
    if method.upper() in BODY_METHODS:  # a body, if sent, is checked (api/body.py)
        shape |= {400, 413, 415}
    if "requestBody" in operation:
        shape |= {400, 413, 415, 422}
    if any(p.get("in") in ("query", "header") for p in operation.get("parameters", [])):
        shape.add(422)
    for status, documented in list(answers.items()):
        if "HTTPValidationError" in json.dumps(documented):  # Powertools' default 422, on every route
            del answers[status]
    for code in sorted(shape):
        answers[str(code)] = _problem(code)  # 500: a problem, not Powertools' validation shape
    if "204" in answers:
        answers["204"].pop("content", None)


_ORG_LINK = {"operationId": "", "parameters": {"org_id": "$response.body#/org_id"}}


def link(document: dict[str, Any]) -> None:
    """An org created by POST /orgs (201) is the `org_id` of every org route."""
    operations = [
        op["operationId"]
        for path, item in document["paths"].items()
        if "{org_id}" in path
        for op in item.values()
        if isinstance(op, dict) and "operationId" in op
    ]
    created = document["paths"]["/orgs"]["post"]["responses"]["201"]
    created["links"] = {op: {**_ORG_LINK, "operationId": op} for op in sorted(operations)}


def build() -> dict[str, Any]:
    merge = OpenAPIMerge(
        title="License Manager API",
        version="1.0.0",
        description=DESCRIPTION,
        security_schemes=SCHEMES,
        security=[{"bearer": []}],
        on_conflict="error",
    )
    seen: set[tuple[str, str]] = set()
    for route in routes():
        if (route.code_uri, route.handler) in seen:
            continue
        seen.add((route.code_uri, route.handler))
        with environment(function_environment(route.function, PLACEHOLDERS)):
            module = load_module(route.code_uri, route.handler)
        merge.add_schema(module.app.get_openapi_schema(security_schemes=SCHEMES))
    text = model_json(OpenAPI(**merge.get_openapi_schema()), by_alias=True, exclude_none=True)
    document: dict[str, Any] = json.loads(text)
    for route in routes():  # behind no authorizer in template.yaml: public, or a system's credential
        if route.path is not None and route.method is not None and not route.authorized:
            document["paths"][route.path][route.method.lower()].setdefault("security", [])
    for item in document["paths"].values():
        for method, operation in item.items():
            complete(method, operation)
    link(document)
    for name in _UNUSED:
        document.get("components", {}).get("schemas", {}).pop(name, None)
    return document


def render() -> str:
    return json.dumps(build(), indent=2, sort_keys=True) + "\n"


def main() -> int:
    OUTPUT.parent.mkdir(exist_ok=True)
    OUTPUT.write_text(render(), encoding="utf-8")
    print(f"wrote {OUTPUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

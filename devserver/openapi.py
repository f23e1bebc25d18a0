"""The OpenAPI document, generated from the functions' own resolvers and models.

`make openapi` (python -m devserver.openapi) writes docs/openapi.json; a test fails when the
file is stale, and the dev server serves the same document at /openapi.json.
"""

from __future__ import annotations

import json
import sys

from aws_lambda_powertools.event_handler.openapi.compat import model_json
from aws_lambda_powertools.event_handler.openapi.merge import OpenAPIMerge
from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer, OpenAPI

from devserver.functions import load_module
from devserver.template import ROOT, routes

OUTPUT = ROOT / "docs" / "openapi.json"

DESCRIPTION = (
    "Annual, per-device software subscriptions: trials, activation, license keys, a wallet of spare "
    "licenses, renewals and an audit history. Every request carries `Authorization: Bearer <JWT>` "
    "(a Cognito ID token in AWS; `POST /_dev/token` on the local dev server). Errors are "
    "`application/problem+json` (RFC 9457)."
)


def build() -> dict[str, object]:
    merge = OpenAPIMerge(
        title="License Manager API",
        version="1.0.0",
        description=DESCRIPTION,
        security_schemes={"bearer": HTTPBearer(bearerFormat="JWT")},
        security=[{"bearer": []}],
        on_conflict="error",
    )
    seen: set[tuple[str, str]] = set()
    for route in routes():
        if (route.code_uri, route.handler) in seen:
            continue
        seen.add((route.code_uri, route.handler))
        module = load_module(route.code_uri, route.handler)
        merge.add_schema(module.app.get_openapi_schema())
    return dict(merge.get_openapi_schema())


def render() -> str:
    text = model_json(OpenAPI(**build()), by_alias=True, exclude_none=True, indent=2)
    return json.dumps(json.loads(text), indent=2, sort_keys=True) + "\n"


def main() -> int:
    OUTPUT.parent.mkdir(exist_ok=True)
    OUTPUT.write_text(render(), encoding="utf-8")
    print(f"wrote {OUTPUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

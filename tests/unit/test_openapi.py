"""docs/openapi.json is generated from the code and must not go stale."""

from __future__ import annotations

import json

from tools.openapi import OUTPUT, render
from tools.template import routes


def test_committed_openapi_document_is_current() -> None:
    assert OUTPUT.read_text() == render(), "docs/openapi.json is stale: run `make openapi`"


def test_document_lists_every_template_route() -> None:
    doc = json.loads(render())
    for route in routes():
        if route.path is not None:
            assert route.method is not None
            assert route.method.lower() in doc["paths"][route.path], route.route_key

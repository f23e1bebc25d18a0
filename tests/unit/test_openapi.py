"""docs/openapi.json is generated from the code and must not go stale."""

from __future__ import annotations

import json
import re
from typing import Any

from license_manager.domain.license_keys import is_valid, normalize
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


DOC = json.loads(OUTPUT.read_text())


def operations() -> list[tuple[str, str, dict[str, Any]]]:
    return [(m.upper(), p, op) for p, item in DOC["paths"].items() for m, op in item.items()]


def test_every_error_is_documented_as_a_problem() -> None:
    for method, path, op in operations():
        for status, answer in op["responses"].items():
            if int(status) >= 400:
                assert list(answer["content"]) == ["application/problem+json"], (method, path, status)
                assert answer["content"]["application/problem+json"]["schema"]["$ref"].endswith("/Problem")
        assert "500" in op["responses"], (method, path)


def test_a_204_declares_no_content() -> None:
    deletes = [op for method, _path, op in operations() if "204" in op["responses"]]
    assert deletes
    assert all("content" not in op["responses"]["204"] for op in deletes)


def test_routes_that_take_a_body_document_its_refusals_and_the_idempotency_key() -> None:
    for method, path, op in operations():
        if "requestBody" in op:
            assert {"400", "413", "415", "422"} <= set(op["responses"]), (method, path)
        if method == "POST":
            names = [p["name"].lower() for p in op.get("parameters", []) if p["in"] == "header"]
            assert "idempotency-key" in names, (method, path)


def test_examples_and_patterns_hold_what_the_api_checks() -> None:
    schemas = DOC["components"]["schemas"]
    (example,) = schemas["RedemptionIn"]["properties"]["license_key"]["examples"]
    assert is_valid(normalize(example))
    country = next(p for p in DOC["paths"]["/resellers"]["get"]["parameters"] if p["name"] == "country")
    pattern = country["schema"]["anyOf"][0]["pattern"] if "anyOf" in country["schema"] else country["schema"]["pattern"]
    assert re.fullmatch(pattern, "SE")
    assert not re.fullmatch(pattern, "Sweden")
    email_pattern = schemas["MemberIn"]["properties"]["email"]["pattern"]
    assert re.fullmatch(email_pattern, "bob@example.com")
    assert not re.fullmatch(email_pattern, "000")


def test_an_org_created_links_to_the_org_routes() -> None:
    links = DOC["paths"]["/orgs"]["post"]["responses"]["201"]["links"]
    targets = {op["operationId"] for _m, path, op in operations() if "{org_id}" in path}
    assert {link["operationId"] for link in links.values()} == targets

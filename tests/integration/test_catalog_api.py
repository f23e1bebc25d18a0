"""Catalog and where to buy through the real handler."""

from __future__ import annotations

import pytest

from tests.helpers import claims_for, http_event, invoke, unique_email


def get(path: str, query: dict[str, str] | None = None, signed_in: bool = True) -> tuple[int, object]:
    reply = invoke(
        "catalog", http_event("GET", path, query=query, claims=claims_for(unique_email()) if signed_in else None)
    )
    return reply.status, reply.body


def test_products_show_trial_terms_and_term_length() -> None:
    status, body = get("/products")
    assert status == 200
    assert isinstance(body, dict)
    first = body["products"][0]
    assert set(first) >= {"product_id", "name", "trial_days", "terms_version", "term_months"}


def test_resellers_by_country() -> None:
    status, body = get("/resellers", {"country": "fr"})
    assert status == 200
    assert isinstance(body, dict)
    assert body["country"] == "FR"
    assert body["resellers"]
    assert all("FR" in r["countries"] for r in body["resellers"])
    _, everyone = get("/resellers")
    assert isinstance(everyone, dict)
    assert len(everyone["resellers"]) > len(body["resellers"])


@pytest.mark.parametrize("country", ["Sweden", "1", "S"])
def test_a_country_that_is_not_a_code_is_422(country: str) -> None:
    status, body = get("/resellers", {"country": country})
    assert status == 422
    assert isinstance(body, dict)
    assert body["field"] == "country"


def test_catalog_needs_a_signed_in_user() -> None:
    assert get("/products", signed_in=False)[0] == 401


def test_any_unknown_route_reaching_the_catch_all_is_a_problem_404() -> None:
    reply = invoke("catalog", http_event("PATCH", "/whatever/else"))
    assert reply.status == 404
    assert reply.content_type == "application/problem+json"

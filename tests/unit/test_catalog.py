"""The vendor's data files load, validate and answer "where do I buy"."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from license_manager.domain.catalog import Catalog
from license_manager.store.catalog import load_catalog


def test_shipped_catalog_has_varied_products() -> None:
    catalog = load_catalog()
    products = catalog.products
    assert len(products) >= 3
    assert len({p.trial_days for p in products}) >= 2
    assert len({p.terms_version for p in products}) >= 3
    assert len({p.product_id for p in products}) == len(products)


def test_shipped_resellers_cover_at_least_five_countries() -> None:
    countries = {c for r in load_catalog().resellers for c in r.countries}
    assert len(countries) >= 5


def test_resellers_filter_by_country_case_insensitively() -> None:
    catalog = load_catalog()
    swedish = catalog.resellers_in("se")
    assert swedish
    assert all("SE" in r.countries for r in swedish)
    assert catalog.resellers_in("ZZ") == []
    assert len(catalog.resellers_in(None)) == len(catalog.resellers)


def test_a_broken_catalog_is_refused() -> None:
    product = {"product_id": "p1", "name": "P", "trial_days": 30, "terms_version": "1", "term_months": 12}
    with pytest.raises(ValidationError, match="duplicate"):
        Catalog.model_validate({"products": [product, product], "resellers": []})
    with pytest.raises(ValidationError):
        Catalog.model_validate({"products": [{**product, "trial_days": 0}], "resellers": []})
    with pytest.raises(ValidationError):
        Catalog.model_validate({"products": [{**product, "unknown": 1}], "resellers": []})

"""Catalog and where to buy (docs/rules.md, rule 8)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from license_manager.domain.catalog import Product, Reseller
from license_manager.domain.errors import InvalidInput, NotFound, raises
from license_manager.store.catalog import load_catalog

_COUNTRY = re.compile(r"^[A-Za-z]{2}$")


def list_products() -> list[Product]:
    return list(load_catalog().products)


@raises(NotFound)
def get_product(product_id: str) -> Product:
    """A product named in a path: unknown is 404."""
    product = load_catalog().product(product_id)
    if product is None:
        raise NotFound(f"There is no product '{product_id}' in the catalog.")
    return product


@dataclass(frozen=True)
class Resellers:
    country: str | None
    resellers: list[Reseller]


@raises(InvalidInput)
def list_resellers(country: str | None) -> Resellers:
    if country is None:
        return Resellers(None, list(load_catalog().resellers))
    if not _COUNTRY.match(country):
        raise InvalidInput("country must be an ISO 3166-1 alpha-2 code such as SE or FR.", field="country")
    code = country.upper()
    return Resellers(code, load_catalog().resellers_in(code))

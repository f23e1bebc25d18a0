"""Catalog and where to buy."""

from __future__ import annotations

from license_manager.domain.catalog import Product, Reseller
from license_manager.domain.errors import InvalidInput, NotFound
from license_manager.store.catalog import load_catalog


def list_products() -> list[Product]:
    return list(load_catalog().products)


def get_product(product_id: str) -> Product:
    product = load_catalog().product(product_id)
    if product is None:
        raise NotFound(f"There is no product '{product_id}' in the catalog.")
    return product


def list_resellers(country: str | None) -> list[Reseller]:
    if country is not None and not (len(country.strip()) == 2 and country.strip().isalpha()):
        raise InvalidInput("country must be an ISO 3166-1 alpha-2 code such as SE or FR.", field="country")
    return load_catalog().resellers_in(country)

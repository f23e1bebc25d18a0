"""The catalog and where to buy (the catalog function)."""

from __future__ import annotations

from license_manager.api.schemas.common import Out
from license_manager.domain.catalog import Product, Reseller


class ProductsOut(Out):
    products: list[Product]


class ResellersOut(Out):
    country: str | None
    resellers: list[Reseller]

"""The catalog and the reseller directory: vendor-edited data files, validated on load."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

ProductId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{1,62}$")]
CountryCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]


class Product(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    product_id: ProductId
    name: str = Field(min_length=1, max_length=200)
    trial_days: int = Field(ge=1, le=365, description="Length of the free trial in days (x 24 h).")
    terms_version: str = Field(min_length=1, max_length=40, description="Current terms; activation must accept it.")
    term_months: int = Field(ge=1, le=60, description="Length of one subscription period in calendar months.")
    description: str = ""


class Reseller(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    name: str = Field(min_length=1, max_length=200)
    countries: list[CountryCode] = Field(min_length=1, description="ISO 3166-1 alpha-2 codes it sells in.")
    website: str = Field(pattern=r"^https://")
    email: str | None = None
    phone: str | None = None


class Catalog(BaseModel):
    """Both files together; product ids are unique."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    products: tuple[Product, ...]
    resellers: tuple[Reseller, ...]

    def model_post_init(self, __context: object) -> None:
        ids = [p.product_id for p in self.products]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"duplicate product ids in the catalog: {duplicates}")

    def product(self, product_id: str) -> Product | None:
        return next((p for p in self.products if p.product_id == product_id), None)

    def resellers_in(self, country: str | None) -> list[Reseller]:
        if country is None:
            return list(self.resellers)
        code = country.strip().upper()
        return [r for r in self.resellers if code in r.countries]

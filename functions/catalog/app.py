"""Catalog and where to buy: GET /products, GET /resellers. Also the API's catch-all 404."""

from __future__ import annotations

import gc

gc.disable()  # until loaded(), below: no garbage collection while the modules load

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query

from license_manager import loading
from license_manager.api.resolver import answer, current_caller, handler, make_resolver, responses
from license_manager.api.schemas.catalog import ProductsOut, ResellersOut
from license_manager.services import catalog

app = make_resolver()

Country = Annotated[
    str | None, Query(pattern=r"^[A-Za-z]{2}$", description="ISO 3166-1 alpha-2, e.g. SE (either case)")
]


@app.get("/products", summary="The product catalog", responses=responses(200, ProductsOut, "The catalog"))
def list_products() -> ProductsOut:
    current_caller(app)
    return answer(ProductsOut, {"products": catalog.list_products()})


@app.get(
    "/resellers",
    summary="Where to buy license keys, optionally for one country",
    responses=responses(200, ResellersOut, "Resellers", catalog.list_resellers),
)
def list_resellers(country: Country = None) -> ResellersOut:
    current_caller(app)
    return answer(ResellersOut, catalog.list_resellers(country))


lambda_handler = handler(app)
loading.loaded()

"""Licensing changes: trials, activation (with dry run) and device usage."""

from __future__ import annotations

import gc

gc.disable()  # until loaded(), below: no garbage collection while the modules load

from aws_lambda_powertools.event_handler import Response

from license_manager import loading, settings
from license_manager.api.resolver import (
    IdempotencyKey,
    answer,
    answer_with,
    current_caller,
    handler,
    make_resolver,
    request_key,
    responses,
)
from license_manager.api.schemas.licensing import ActivationIn, ActivationOut, TrialIn, UsageIn
from license_manager.domain.views import ProductOverview
from license_manager.services import licensing

settings.load()
app = make_resolver()


@app.post(
    "/orgs/<org_id>/trials",
    status_code=201,
    summary="Start the free trial of a product (admin); one per product per org, ever",
    responses=responses(201, ProductOverview, "Trial started", licensing.start_trial),
)
def start_trial(org_id: str, body: TrialIn, idempotency_key: IdempotencyKey = None) -> ProductOverview:
    caller = current_caller(app)
    key = request_key(app, caller, idempotency_key)
    return answer(ProductOverview, licensing.start_trial(caller, org_id, body.product_id, key))


@app.post(
    "/orgs/<org_id>/activations",
    status_code=201,
    summary="Activate a product, accepting its current terms (admin); dry_run previews (200)",
    responses=responses(
        201,
        ActivationOut,
        "Activated",
        licensing.activate,
        also={
            200: {
                "description": "Dry run: what activation would do",
                "content": {"application/json": {"model": ActivationOut}},
            }
        },
    ),
)
def activate(org_id: str, body: ActivationIn, idempotency_key: IdempotencyKey = None) -> Response[ActivationOut]:
    caller = current_caller(app)
    result = licensing.activate(
        caller,
        org_id,
        body.product_id,
        accept_terms=body.accept_terms,
        terms_version=body.terms_version,
        dry_run=body.dry_run,
        key=request_key(app, caller, idempotency_key),
    )
    return answer_with(200 if result.dry_run else 201, ActivationOut, result)


@app.put(
    "/orgs/<org_id>/products/<product_id>/usage",
    summary="Set how many devices run the product (admin); a rise is covered from the wallet at once",
    responses=responses(200, ProductOverview, "The product after the change", licensing.set_usage),
)
def set_usage(org_id: str, product_id: str, body: UsageIn) -> ProductOverview:
    return answer(ProductOverview, licensing.set_usage(current_caller(app), org_id, product_id, body.devices))


lambda_handler = handler(app)
loading.loaded()

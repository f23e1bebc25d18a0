"""Redeem a license key into the org's licenses: POST /orgs/{org_id}/redemptions."""

from __future__ import annotations

import gc

gc.disable()  # until loaded(), below: no garbage collection while the modules load

from license_manager import loading, settings
from license_manager.api.resolver import (
    IdempotencyKey,
    answer,
    current_caller,
    handler,
    make_resolver,
    request_key,
    responses,
)
from license_manager.api.schemas.keys import RedemptionIn, RedemptionOut
from license_manager.services import redemptions

settings.load()
app = make_resolver()


@app.post(
    "/orgs/<org_id>/redemptions",
    status_code=201,
    summary="Redeem a license key (admin): consumed for current devices, the rest to the wallet",
    responses=responses(201, RedemptionOut, "Redeemed", redemptions.redeem),
)
def redeem(org_id: str, body: RedemptionIn, idempotency_key: IdempotencyKey = None) -> RedemptionOut:
    caller = current_caller(app)
    key = request_key(app, caller, idempotency_key)
    return answer(RedemptionOut, redemptions.redeem(caller, org_id, body.license_key, key))


lambda_handler = handler(app)
loading.loaded()

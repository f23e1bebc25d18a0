"""Vendor staff: issue license keys in batches, revoke unredeemed ones (group vendor-admin)."""

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
from license_manager.api.schemas.keys import IssuedBatchOut, IssueKeysIn, KeyOut
from license_manager.services import vendor_keys

settings.load(require=["answers_key_id"])
app = make_resolver()


@app.post(
    "/admin/license-keys",
    status_code=201,
    summary="Issue a batch of license keys (vendor-admin); the keys are shown this once",
    responses=responses(201, IssuedBatchOut, "Issued", vendor_keys.issue),
)
def issue(body: IssueKeysIn, idempotency_key: IdempotencyKey = None) -> IssuedBatchOut:
    caller = current_caller(app)
    key = request_key(app, caller, idempotency_key)
    return answer(IssuedBatchOut, vendor_keys.issue(caller, body.product_id, body.licenses, body.count, key))


@app.post(
    "/admin/license-keys/<key_id>/revoke",
    summary="Revoke an unredeemed license key (vendor-admin)",
    responses=responses(200, KeyOut, "Revoked", vendor_keys.revoke),
)
def revoke(key_id: str, idempotency_key: IdempotencyKey = None) -> KeyOut:
    caller = current_caller(app)
    return answer(KeyOut, vendor_keys.revoke(caller, key_id, request_key(app, caller, idempotency_key)))


lambda_handler = handler(app)
loading.loaded()

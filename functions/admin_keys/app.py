"""Vendor staff: issue license keys in batches, revoke unredeemed ones (group vendor-admin)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from license_manager.api.resolver import current_caller, make_resolver, responses, serve
from license_manager.api.schemas import IssuedBatchOut, IssuedKeyOut, IssueKeysIn, KeyOut
from license_manager.observability import logger
from license_manager.services import vendor_keys

app = make_resolver()


@app.post(
    "/admin/license-keys",
    status_code=201,
    summary="Issue a batch of license keys (vendor-admin); the keys are shown this once",
    responses=responses(201, IssuedBatchOut, "Issued", 400, 403, 404, 415, 503),
)
def issue(body: IssueKeysIn) -> IssuedBatchOut:
    batch = vendor_keys.issue(current_caller(app), body.product_id, body.licenses, body.count)
    return IssuedBatchOut(
        batch_id=batch.batch_id,
        product_id=batch.product_id,
        licenses=batch.licenses,
        keys=[IssuedKeyOut(key_id=k.key_id, license_key=k.license_key, last5=k.last5) for k in batch.keys],
    )


@app.post(
    "/admin/license-keys/<key_id>/revoke",
    summary="Revoke an unredeemed license key (vendor-admin)",
    responses=responses(200, KeyOut, "Revoked", 403, 404, 409),
)
def revoke(key_id: str) -> KeyOut:
    key = vendor_keys.revoke(current_caller(app), key_id)
    return KeyOut(
        key_id=key.key_id,
        product_id=key.product_id,
        licenses=key.licenses,
        last5=key.last5,
        status=key.status,
        revoked_at=key.revoked_at,
    )


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return serve(app, event, context)

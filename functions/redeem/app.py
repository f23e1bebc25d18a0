"""Redeem a license key into the org's licenses: POST /orgs/{org_id}/redemptions."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from license_manager.api.resolver import current_caller, make_resolver, responses, serve
from license_manager.api.schemas import RedemptionIn, RedemptionOut
from license_manager.observability import logger
from license_manager.services import redemptions

app = make_resolver()


@app.post(
    "/orgs/<org_id>/redemptions",
    status_code=201,
    summary="Redeem a license key (admin): consumed for current devices, the rest to the wallet",
    responses=responses(201, RedemptionOut, "Redeemed", 400, 403, 404, 409, 410, 415, 429, 503),
)
def redeem(org_id: str, body: RedemptionIn) -> RedemptionOut:
    result = redemptions.redeem(current_caller(app), org_id, body.license_key)
    return RedemptionOut(
        product_id=result.product_id,
        licenses=result.licenses,
        consumed=result.consumed,
        added_to_wallet=result.added_to_wallet,
        status=result.status,
    )


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return serve(app, event, context)

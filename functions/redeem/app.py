"""Redeem a license key into the org's licenses: POST /orgs/{org_id}/redemptions."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from license_manager import settings
from license_manager.api.resolver import (
    IdempotencyKey,
    answer,
    current_caller,
    make_resolver,
    request_key,
    responses,
    serve,
)
from license_manager.api.schemas import RedemptionIn, RedemptionOut
from license_manager.observability import logger
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


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return serve(app, event, context)

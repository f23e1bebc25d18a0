"""What the org has, at a glance: GET /orgs/{org_id}/overview and /wallet (one query each)."""

from __future__ import annotations

import gc

gc.disable()  # until loaded(), below: no garbage collection while the modules load

from license_manager import loading, settings
from license_manager.api.resolver import answer, current_caller, handler, make_resolver, responses
from license_manager.api.schemas.licensing import OverviewOut, WalletOut
from license_manager.services import licensing

settings.load()
app = make_resolver()


@app.get(
    "/orgs/<org_id>/overview",
    summary="Per product: trial, subscription status and period, devices, licensed, wallet (viewer)",
    responses=responses(200, OverviewOut, "The org's products", licensing.overview),
)
def overview(org_id: str) -> OverviewOut:
    return answer(OverviewOut, licensing.overview(current_caller(app), org_id))


@app.get(
    "/orgs/<org_id>/wallet",
    summary="Spare licenses per product and how many to buy before the next renewal (viewer)",
    responses=responses(200, WalletOut, "The org's wallet", licensing.wallet),
)
def wallet(org_id: str) -> WalletOut:
    return answer(WalletOut, licensing.wallet(current_caller(app), org_id))


lambda_handler = handler(app)
loading.loaded()

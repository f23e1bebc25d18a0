"""Redemption races on the dev server, with real concurrency."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from tests.e2e.conftest import token_for
from tests.helpers import http, unique_email

CAM = "camera-station-pro"


def issue(base_url: str, licenses: int, count: int) -> list[str]:
    vendor = token_for(base_url, "vera@vendor.example", ["vendor-admin"])
    reply = http(
        "POST",
        f"{base_url}/admin/license-keys",
        {"product_id": CAM, "licenses": licenses, "count": count},
        token=vendor,
    )
    assert reply.status == 201, reply.body
    return [k["license_key"] for k in reply.body["keys"]]


def new_org(base_url: str) -> tuple[str, str]:
    token = token_for(base_url, unique_email("admin"))
    return http("POST", f"{base_url}/orgs", {"name": "Race Co"}, token=token).body["org_id"], token


def test_one_key_redeemed_from_32_orgs_at_once_is_redeemed_exactly_once(base_url: str) -> None:
    (key,) = issue(base_url, licenses=4, count=1)
    orgs = [new_org(base_url) for _ in range(32)]

    def attempt(org: tuple[str, str]) -> tuple[int, Any]:
        reply = http("POST", f"{base_url}/orgs/{org[0]}/redemptions", {"license_key": key}, token=org[1])
        return reply.status, reply.body

    with ThreadPoolExecutor(max_workers=32) as pool:
        results = list(pool.map(attempt, orgs))
    statuses = sorted(s for s, _ in results)
    assert statuses == [201] + [409] * 31, [b for s, b in results if s not in (201, 409)]
    winner = next(org for org, (status, _) in zip(orgs, results, strict=True) if status == 201)
    wallets = {}
    for org_id, token in orgs:
        body = http("GET", f"{base_url}/orgs/{org_id}/wallet", token=token).body
        wallets[org_id] = sum(p["wallet"] for p in body["products"])
    assert wallets[winner[0]] == 4
    assert sum(wallets.values()) == 4  # nobody else got anything


def test_16_keys_redeemed_into_one_org_at_once_all_land_with_exact_totals(base_url: str) -> None:
    org_id, token = new_org(base_url)
    http("PUT", f"{base_url}/orgs/{org_id}/products/{CAM}/usage", {"devices": 20}, token=token)
    assert (
        http(
            "POST",
            f"{base_url}/orgs/{org_id}/activations",
            {"product_id": CAM, "accept_terms": True, "terms_version": "2026-01"},
            token=token,
        ).status
        == 201
    )
    keys = issue(base_url, licenses=3, count=16)
    with ThreadPoolExecutor(max_workers=16) as pool:
        replies = list(
            pool.map(
                lambda k: http("POST", f"{base_url}/orgs/{org_id}/redemptions", {"license_key": k}, token=token), keys
            )
        )
    assert [r.status for r in replies] == [201] * 16, [r.body for r in replies if r.status != 201]
    # 48 licenses: 20 cover the devices, 28 go to the wallet, whatever the order
    assert sum(r.body["consumed"] for r in replies) == 20
    assert sum(r.body["added_to_wallet"] for r in replies) == 28
    overview = http("GET", f"{base_url}/orgs/{org_id}/overview", token=token).body["products"][0]
    assert (overview["subscription"]["licensed"], overview["wallet"], overview["status"]) == (20, 28, "licensed")
    # and history explains it: redeemed = wallet + consumed, and the events chain without a gap
    events = list(reversed(http("GET", f"{base_url}/orgs/{org_id}/history?limit=100", token=token).body["events"]))
    redemptions = [e for e in events if e["action"] == "key_redeemed"]
    assert len(redemptions) == 16
    assert sum(e["licenses"] for e in redemptions) == 48 == overview["wallet"] + sum(e["consumed"] or 0 for e in events)
    wallet = 0
    for e in redemptions:
        wallet += e["to_wallet"]
        assert e["wallet_after"] == wallet

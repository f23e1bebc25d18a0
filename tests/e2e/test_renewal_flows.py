"""The renewal sweep over HTTP: /_dev/renewal-sweep at the dev clock, notifications, conservation."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from tests.e2e.conftest import token_for
from tests.helpers import http, unique_email

CAM = "camera-station-pro"


class Customer:
    def __init__(self, base_url: str) -> None:
        self.base = base_url
        self.token = token_for(base_url, unique_email("admin"))
        self.org = http("POST", f"{base_url}/orgs", {"name": "Renew Co"}, token=self.token).body["org_id"]

    def usage(self, devices: int) -> None:
        assert (
            http(
                "PUT", f"{self.base}/orgs/{self.org}/products/{CAM}/usage", {"devices": devices}, token=self.token
            ).status
            == 200
        )

    def activate(self) -> None:
        assert (
            http(
                "POST",
                f"{self.base}/orgs/{self.org}/activations",
                {"product_id": CAM, "accept_terms": True, "terms_version": "2026-01"},
                token=self.token,
            ).status
            == 201
        )

    def redeem(self, licenses: int) -> dict[str, Any]:
        vendor = token_for(self.base, "vera@vendor.example", ["vendor-admin"])
        key = http(
            "POST",
            f"{self.base}/admin/license-keys",
            {"product_id": CAM, "licenses": licenses, "count": 1},
            token=vendor,
        ).body["keys"][0]["license_key"]
        reply = http("POST", f"{self.base}/orgs/{self.org}/redemptions", {"license_key": key}, token=self.token)
        assert reply.status == 201
        return dict(reply.body)

    def product(self) -> dict[str, Any]:
        return dict(http("GET", f"{self.base}/orgs/{self.org}/overview", token=self.token).body["products"][0])

    def history(self) -> list[dict[str, Any]]:
        return list(http("GET", f"{self.base}/orgs/{self.org}/history?limit=100", token=self.token).body["events"])

    def conserved(self) -> bool:
        events = self.history()
        redeemed = sum(e["licenses"] for e in events if e["action"] == "key_redeemed")
        return bool(redeemed == self.product()["wallet"] + sum(e["consumed"] or 0 for e in events))


def sweep(base_url: str) -> dict[str, Any]:
    reply = http("POST", f"{base_url}/_dev/renewal-sweep")
    assert reply.status == 200, reply.body
    assert reply.body["errors"] == 0
    return dict(reply.body)


def notifications(base_url: str, org_id: str) -> list[tuple[str, int]]:
    found = http("GET", f"{base_url}/_dev/notifications").body["notifications"]
    return [(n["detail_type"], n["detail"]["period_number"]) for n in found if n["detail"]["org_id"] == org_id]


def test_a_year_later_the_sweep_renews_once_from_the_wallet(base_url: str, dev_clock: Callable[[str], None]) -> None:
    dev_clock("2027-01-15T10:00:00Z")
    c = Customer(base_url)
    c.usage(4)
    c.activate()
    c.redeem(10)  # 4 consumed, 6 in the wallet
    notifications(base_url, c.org)  # start from a clean slate
    dev_clock("2028-01-15T10:05:00Z")
    before_sweep = c.product()  # begun, not recorded yet: shown as the sweep will record it
    assert (before_sweep["status"], before_sweep["wallet"], before_sweep["subscription"]["licensed"]) == (
        "licensed",
        2,
        4,
    )
    sweep(base_url)
    product = c.product()
    assert product == before_sweep  # the sweep changes nothing the customer sees
    assert product["subscription"]["period_number"] == 2
    renewed = [e for e in c.history() if e["action"] == "renewed"]
    assert [(e["actor"], e["consumed"], e["from_wallet"], e["shortfall"]) for e in renewed] == [("system", 4, 4, 0)]
    assert renewed[0]["period_start"].startswith("2028-01-15T10:00")
    # repeated sweeps, even two at once, change nothing
    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(lambda _i: sweep(base_url), range(2)))
    sweep(base_url)
    assert [e for e in c.history() if e["action"] == "renewed"] == renewed
    assert notifications(base_url, c.org) == [("License Renewed", 2)]
    assert c.conserved()


def test_after_three_missed_periods_it_catches_up_one_by_one(base_url: str, dev_clock: Callable[[str], None]) -> None:
    dev_clock("2027-03-01T08:00:00Z")
    c = Customer(base_url)
    c.usage(3)
    c.activate()
    c.redeem(9)  # 3 now, 6 spare: enough for two renewals
    notifications(base_url, c.org)
    dev_clock("2030-03-05T08:00:00Z")
    sweep(base_url)
    renewed = sorted((e for e in c.history() if e["action"] == "renewed"), key=lambda e: e["period_start"])
    assert [e["period_start"][:10] for e in renewed] == ["2028-03-01", "2029-03-01", "2030-03-01"]
    assert [(e["consumed"], e["shortfall"], e["wallet_after"]) for e in renewed] == [(3, 0, 3), (3, 0, 0), (0, 3, 0)]
    product = c.product()
    assert (product["status"], product["subscription"]["period_number"]) == ("grace", 4)
    assert product["subscription"]["licenses_needed_at_next_renewal"] == 3
    assert sorted(notifications(base_url, c.org)) == [
        ("License Renewed", 2),
        ("License Renewed", 3),
        ("License Renewed", 4),
        ("Renewal Shortfall", 4),
    ]
    sweep(base_url)
    assert len([e for e in c.history() if e["action"] == "renewed"]) == 3
    assert c.conserved()


def test_shortfall_then_grace_then_unlicensed_with_one_notice_each(
    base_url: str, dev_clock: Callable[[str], None]
) -> None:
    dev_clock("2027-06-10T12:00:00Z")
    c = Customer(base_url)
    c.usage(5)
    c.activate()
    c.redeem(5)  # all five covered, wallet empty
    notifications(base_url, c.org)
    dev_clock("2028-06-10T12:30:00Z")
    sweep(base_url)
    assert c.product()["status"] == "grace"
    assert c.product()["subscription"]["shortfall"] == 5
    dev_clock("2028-07-04T12:00:00Z")  # 6 days before the grace ends on 10 Jul
    sweep(base_url)
    sweep(base_url)
    dev_clock("2028-07-10T12:01:00Z")
    sweep(base_url)
    assert c.product()["status"] == "unlicensed"
    sweep(base_url)
    assert notifications(base_url, c.org) == [
        ("License Renewed", 2),
        ("Renewal Shortfall", 2),
        ("Grace Ending Soon", 2),
        ("License Lapsed", 2),
    ]
    # buying the missing licenses makes it licensed again, and nothing more is sent
    assert c.redeem(5)["status"] == "licensed"
    sweep(base_url)
    assert notifications(base_url, c.org) == []
    assert c.conserved()

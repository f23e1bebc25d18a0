"""Trials, activation and usage over HTTP, with the dev clock moved forward and back."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from tests.e2e.conftest import token_for
from tests.helpers import Reply, http, unique_email

CAM = "camera-station-pro"


class Org:
    def __init__(self, base_url: str) -> None:
        self.base = base_url
        self.admin = unique_email("admin")
        self.token = token_for(base_url, self.admin)
        self.id = http("POST", f"{base_url}/orgs", {"name": "Flow Co"}, token=self.token).body["org_id"]

    def post(self, path: str, body: Any) -> Reply:
        return http("POST", f"{self.base}/orgs/{self.id}/{path}", body, token=self.token)

    def usage(self, devices: int, product: str = CAM) -> Reply:
        return http(
            "PUT", f"{self.base}/orgs/{self.id}/products/{product}/usage", {"devices": devices}, token=self.token
        )

    def activate(self, product: str = CAM) -> Reply:
        terms = {
            p["product_id"]: p["terms_version"]
            for p in http("GET", f"{self.base}/products", token=self.token).body["products"]
        }
        return self.post("activations", {"product_id": product, "accept_terms": True, "terms_version": terms[product]})

    def product(self, product: str = CAM) -> dict[str, Any]:
        body = http("GET", f"{self.base}/orgs/{self.id}/overview", token=self.token).body
        return next(p for p in body["products"] if p["product_id"] == product)

    def history(self) -> list[dict[str, Any]]:
        return list(http("GET", f"{self.base}/orgs/{self.id}/history?limit=100", token=self.token).body["events"])


def test_trial_expires_with_the_clock_and_comes_back_when_it_is_moved_back(
    base_url: str, dev_clock: Callable[[str], None]
) -> None:
    dev_clock("2027-03-01T12:00:00Z")
    org = Org(base_url)
    started = org.post("trials", {"product_id": "perimeter-defender"})  # 90-day trial
    assert started.status == 201
    assert started.body["trial"]["ends_at"].startswith("2027-05-30T12:00")
    dev_clock("2027-05-30T11:59:00Z")
    assert org.product("perimeter-defender")["status"] == "trial"
    dev_clock("2027-05-30T12:01:00Z")
    assert org.product("perimeter-defender")["status"] == "trial_expired"
    assert org.post("trials", {"product_id": "perimeter-defender"}).status == 409
    dev_clock("2027-04-01T00:00:00Z")
    assert org.product("perimeter-defender")["status"] == "trial"


def test_grace_then_unlicensed_as_the_clock_moves(base_url: str, dev_clock: Callable[[str], None]) -> None:
    dev_clock("2027-01-15T10:00:00Z")
    org = Org(base_url)
    org.usage(3)
    activated = org.activate()
    assert activated.status == 201
    assert activated.body["product"]["subscription"]["grace_ends_at"].startswith("2027-02-14T10:00")
    dev_clock("2027-02-14T09:59:00Z")
    assert org.product()["status"] == "grace"
    dev_clock("2027-02-14T10:01:00Z")
    assert org.product()["status"] == "unlicensed"
    dev_clock("2027-01-20T00:00:00Z")
    assert org.product()["status"] == "grace"
    org.usage(0)
    assert org.product()["status"] == "licensed"  # nothing to cover


def test_a_new_period_shows_its_renewal_before_it_is_recorded_and_nothing_changes_when_it_is(
    base_url: str, dev_clock: Callable[[str], None]
) -> None:
    # Given a subscription with devices and an empty wallet
    dev_clock("2027-01-15T10:00:00Z")
    org = Org(base_url)
    org.usage(1)
    org.activate()
    # When its second period has begun and nothing has recorded the renewal yet
    dev_clock("2028-01-15T10:01:00Z")
    product = org.product()
    # Then the overview already shows period 2 as the renewal will record it
    assert product["subscription"]["period_number"] == 2
    assert product["subscription"]["period_start"].startswith("2028-01-15T10:00")
    assert product["subscription"]["next_renewal_at"].startswith("2029-01-15T10:00")
    assert (product["status"], product["subscription"]["licensed"]) == ("grace", 0)
    assert not [e for e in org.history() if e["action"] == "renewed"]
    org.usage(1)  # the same count: the due renewal is recorded, nothing else
    assert [(e["action"], e["actor"]) for e in org.history()[:1]] == [("renewed", "system")]
    assert org.product() == product


def test_activating_twice_at_once_creates_one_subscription(base_url: str) -> None:
    org = Org(base_url)
    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = sorted(pool.map(lambda _i: org.activate().status, range(8)))
    assert statuses == [201] + [409] * 7
    assert [e["action"] for e in org.history()].count("activated") == 1


def test_one_trial_when_many_start_at_once(base_url: str) -> None:
    org = Org(base_url)
    with ThreadPoolExecutor(max_workers=6) as pool:
        statuses = sorted(pool.map(lambda _i: org.post("trials", {"product_id": CAM}).status, range(6)))
    assert statuses == [201] + [409] * 5


def test_concurrent_usage_changes_are_never_lost(base_url: str) -> None:
    # Given an activated product
    org = Org(base_url)
    org.activate()
    # When 12 admins set different device counts at the same moment
    counts = list(range(1, 13))
    with ThreadPoolExecutor(max_workers=12) as pool:
        replies = list(pool.map(org.usage, counts))
    # Then every change lands, one after another: each one starts where the previous ended
    assert [r.status for r in replies] == [200] * 12, [r.body for r in replies if r.status != 200]
    changes = [e for e in reversed(org.history()) if e["action"] == "usage_changed"]
    assert sorted(e["devices_after"] for e in changes) == counts
    assert changes[0]["devices_before"] == 0
    for earlier, later in itertools.pairwise(changes):
        assert later["devices_before"] == earlier["devices_after"]
    assert org.product()["devices"] == changes[-1]["devices_after"]

"""A stateful property test: random sequences of everything that changes licenses, through the real
handlers against the embedded DynamoDB, checking after every step that

- for each org and product, the licenses in the keys it redeemed = wallet + licenses consumed;
- the wallet is never negative;
- the history alone re-derives the wallet and the licensed count;
- no request is answered with a 5xx;
- running the sweep changes no figure an org sees (rule 5).
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from license_manager import clock
from license_manager.services import renewals
from license_manager.services.catalog import get_product
from tests.helpers import Reply, call, http_event, invoke, unique_email

pytestmark = pytest.mark.usefixtures("table")

PRODUCTS = ["camera-station-pro", "perimeter-defender"]
TERMS = {p: get_product(p).terms_version for p in PRODUCTS}
VENDOR = "vera@vendor.example"


def checked(reply: Reply) -> Reply:
    assert reply.status < 500, reply.body
    return reply


class Licensing(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.now = datetime(2027, 1, 1, tzinfo=UTC)
        clock.set_now(self.now)
        self.orgs: list[tuple[str, str]] = []  # (org_id, admin)
        self.keys: list[dict[str, Any]] = []  # issued: license_key, product_id, licenses
        self.redeemed: dict[tuple[str, str], int] = {}  # (org, product) -> licenses in keys it redeemed
        self.systems: list[tuple[str, str, str]] = []  # (org, system id, credential)

    @initialize()
    def two_orgs(self) -> None:
        for _ in range(2):
            admin = unique_email("admin")
            org_id = checked(call("orgs", "POST", "/orgs", admin, {"name": "Acme"})).body["org_id"]
            self.orgs.append((org_id, admin))

    # -- what people and the schedule do ----------------------------------------------------------

    @rule(product=st.sampled_from(PRODUCTS), licenses=st.integers(1, 12), count=st.integers(1, 3))
    def issue(self, product: str, licenses: int, count: int) -> None:
        body = {"product_id": product, "licenses": licenses, "count": count}
        reply = checked(call("admin_keys", "POST", "/admin/license-keys", VENDOR, body, groups=["vendor-admin"]))
        self.keys += [
            {"license_key": k["license_key"], "product_id": product, "licenses": licenses} for k in reply.body["keys"]
        ]

    @rule(data=st.data())
    def redeem(self, data: st.DataObject) -> None:
        if not self.keys:
            return
        org_id, admin = data.draw(st.sampled_from(self.orgs))
        key = data.draw(st.sampled_from(self.keys))
        reply = checked(
            call("redeem", "POST", f"/orgs/{org_id}/redemptions", admin, {"license_key": key["license_key"]})
        )
        if reply.status == 201:
            slot = (org_id, key["product_id"])
            self.redeemed[slot] = self.redeemed.get(slot, 0) + key["licenses"]
        else:
            assert reply.status in (409, 429), reply.body

    @rule(data=st.data(), product=st.sampled_from(PRODUCTS), devices=st.integers(0, 25))
    def usage(self, data: st.DataObject, product: str, devices: int) -> None:
        org_id, admin = data.draw(st.sampled_from(self.orgs))
        checked(call("activate", "PUT", f"/orgs/{org_id}/products/{product}/usage", admin, {"devices": devices}))

    @rule(data=st.data(), product=st.sampled_from(PRODUCTS))
    def activate(self, data: st.DataObject, product: str) -> None:
        org_id, admin = data.draw(st.sampled_from(self.orgs))
        body = {"product_id": product, "accept_terms": True, "terms_version": TERMS[product]}
        assert checked(call("activate", "POST", f"/orgs/{org_id}/activations", admin, body)).status in (201, 409)

    @rule(data=st.data(), product=st.sampled_from(PRODUCTS))
    def trial(self, data: st.DataObject, product: str) -> None:
        org_id, admin = data.draw(st.sampled_from(self.orgs))
        checked(call("activate", "POST", f"/orgs/{org_id}/trials", admin, {"product_id": product}))

    @rule(data=st.data(), role=st.sampled_from(["viewer", "admin", "owner"]))
    def add_member(self, data: st.DataObject, role: str) -> None:
        org_id, admin = data.draw(st.sampled_from(self.orgs))
        checked(call("orgs", "POST", f"/orgs/{org_id}/members", admin, {"email": unique_email("m"), "role": role}))

    @rule(data=st.data(), product=st.sampled_from(PRODUCTS))
    def install(self, data: st.DataObject, product: str) -> None:
        org_id, admin = data.draw(st.sampled_from(self.orgs))
        code = checked(call("systems", "POST", f"/orgs/{org_id}/systems/registration-codes", admin)).body["code"]
        body = {"code": code, "name": f"Site {len(self.systems)}", "product_id": product}
        registered = checked(invoke("systems", http_event("POST", "/systems/register", body=body))).body
        self.systems.append((org_id, registered["system_id"], registered["credential"]))

    @rule(data=st.data(), devices=st.integers(0, 15))
    def system_reports(self, data: st.DataObject, devices: int) -> None:
        if not self.systems:
            return
        _org, system_id, credential = data.draw(st.sampled_from(self.systems))
        event = http_event(
            "PUT",
            f"/systems/{system_id}/usage",
            body={"devices": devices},
            headers={"Authorization": f"Bearer {credential}"},
        )
        assert checked(invoke("systems", event)).status == 200

    @rule(days=st.integers(1, 400))
    def time_passes(self, days: int) -> None:
        self.now += timedelta(days=days)
        clock.set_now(self.now)

    @rule()
    def sweep(self) -> None:
        before = [self.figures(org_id, admin) for org_id, admin in self.orgs]
        summary = renewals.sweep(lambda: 10**9)
        assert summary.errors == 0, summary
        assert [self.figures(org_id, admin) for org_id, admin in self.orgs] == before

    # -- what must always hold --------------------------------------------------------------------

    def figures(self, org_id: str, admin: str) -> list[dict[str, Any]]:
        products = checked(call("overview", "GET", f"/orgs/{org_id}/overview", admin)).body["products"]
        return sorted(products, key=lambda p: p["product_id"])

    def history(self, org_id: str, admin: str) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = []
        cursor: str | None = None
        while True:
            query = {"limit": "100", **({"cursor": cursor} if cursor else {})}
            page = checked(call("orgs", "GET", f"/orgs/{org_id}/history", admin, query=query)).body
            events += page["events"]
            cursor = page["next_cursor"]
            if cursor is None:
                return list(reversed(events))  # oldest first

    @invariant()
    def licenses_are_conserved_and_history_explains_them(self) -> None:
        for org_id, admin in self.orgs:
            events = self.history(org_id, admin)
            for product in self.figures(org_id, admin):
                pid = product["product_id"]
                mine = [e for e in events if e["product_id"] == pid]
                wallet = sum((e["to_wallet"] or 0) - (e["from_wallet"] or 0) for e in mine)
                consumed = sum(e["consumed"] or 0 for e in mine)
                assert wallet >= 0
                assert self.redeemed.get((org_id, pid), 0) == wallet + consumed
                licensed = 0
                for e in mine:
                    if e["action"] in ("activated", "renewed"):
                        licensed = e["consumed"]  # a period starts: what the wallet covered of it
                    elif e["consumed"]:
                        licensed += e["consumed"]
                moved = [e for e in mine if e["wallet_after"] is not None]
                if moved:
                    assert (moved[-1]["wallet_after"], moved[-1]["licensed_after"]) == (wallet, licensed)
                renewed = sum(1 for e in mine if e["action"] in ("activated", "renewed"))
                sub = product["subscription"]
                if sub is None or sub["period_number"] == renewed:  # no renewal pending: the overview agrees
                    assert product["wallet"] == wallet
                    if sub is not None:
                        assert sub["licensed"] == licensed


def test_licenses_are_conserved_whatever_happens_in_whatever_order() -> None:
    run_state_machine_as_test(
        Licensing,
        settings=settings(
            max_examples=int(os.environ.get("STATEFUL_EXAMPLES", "12")),
            stateful_step_count=18,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        ),
    )

"""Trials, activation, usage, overview and wallet through the real handlers, against moto."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from license_manager import clock
from license_manager.domain.errors import StaleState
from license_manager.services import licensing as service
from license_manager.services import unit_of_work
from license_manager.services.catalog import get_product
from license_manager.store import dynamo
from license_manager.store import licensing as licensing_store
from license_manager.store.catalog import load_catalog
from tests.helpers import Reply, call, counting_calls, unique_email
from tests.integration.test_systems_api import register

pytestmark = pytest.mark.usefixtures("table")

CAM = get_product("camera-station-pro")
PERIMETER = get_product("perimeter-defender")
T0 = datetime(2027, 1, 15, 10, tzinfo=UTC)


def new_org(owner: str) -> str:
    return str(call("orgs", "POST", "/orgs", owner, {"name": "Acme"}).body["org_id"])


def add(org_id: str, owner: str, email: str, role: str) -> None:
    assert call("orgs", "POST", f"/orgs/{org_id}/members", owner, {"email": email, "role": role}).status == 201


def activation(product_id: str = "camera-station-pro", **overrides: Any) -> dict[str, Any]:
    terms = load_catalog().product(product_id)
    assert terms is not None
    return {"product_id": product_id, "accept_terms": True, "terms_version": terms.terms_version, **overrides}


def usage(org_id: str, email: str, devices: Any, product_id: str = "camera-station-pro") -> Reply:
    return call("activate", "PUT", f"/orgs/{org_id}/products/{product_id}/usage", email, {"devices": devices})


def overview(org_id: str, email: str) -> dict[str, Any]:
    reply = call("overview", "GET", f"/orgs/{org_id}/overview", email)
    assert reply.status == 200, reply.body
    return {p["product_id"]: p for p in reply.body["products"]}


def history(org_id: str, email: str) -> list[dict[str, Any]]:
    return list(call("orgs", "GET", f"/orgs/{org_id}/history", email, query={"limit": "100"}).body["events"])


def redeem_key(org_id: str, admin: str, product_id: str, licenses: int) -> Reply:
    """A key of `licenses` issued by the vendor and redeemed by `admin`, through the real handlers."""
    issued = call(
        "admin_keys",
        "POST",
        "/admin/license-keys",
        "vera@vendor.example",
        {"product_id": product_id, "licenses": licenses, "count": 1},
        groups=["vendor-admin"],
    )
    assert issued.status == 201, issued.body
    key = issued.body["keys"][0]["license_key"]
    redeemed = call("redeem", "POST", f"/orgs/{org_id}/redemptions", admin, {"license_key": key})
    assert redeemed.status == 201, redeemed.body
    return redeemed


# -- trials -------------------------------------------------------------------------------------


def test_a_trial_runs_for_the_products_trial_days_then_expires() -> None:
    admin = unique_email("admin")
    org_id = new_org(admin)
    clock.set_now(T0)
    reply = call("activate", "POST", f"/orgs/{org_id}/trials", admin, {"product_id": "perimeter-defender"})
    assert reply.status == 201
    assert reply.body["status"] == "trial"
    ends = datetime.fromisoformat(reply.body["trial"]["ends_at"])
    assert ends - datetime.fromisoformat(reply.body["trial"]["started_at"]) == timedelta(days=PERIMETER.trial_days)
    clock.set_now(ends - timedelta(minutes=1))
    assert overview(org_id, admin)["perimeter-defender"]["status"] == "trial"
    clock.set_now(ends + timedelta(minutes=1))
    assert overview(org_id, admin)["perimeter-defender"]["status"] == "trial_expired"
    assert next(e["action"] for e in history(org_id, admin)) == "trial_started"


def test_one_trial_per_product_ever_and_none_once_activated() -> None:
    admin = unique_email("admin")
    org_id = new_org(admin)
    path = f"/orgs/{org_id}/trials"
    assert call("activate", "POST", path, admin, {"product_id": "perimeter-defender"}).status == 201
    again = call("activate", "POST", path, admin, {"product_id": "perimeter-defender"})
    assert (again.status, again.body["code"]) == (409, "trial_used")
    assert call("activate", "POST", f"/orgs/{org_id}/activations", admin, activation()).status == 201
    after = call("activate", "POST", path, admin, {"product_id": "camera-station-pro"})
    assert (after.status, after.body["code"]) == (409, "already_activated")


def test_trial_of_an_unknown_product_is_422_and_viewers_and_strangers_cannot() -> None:
    owner, viewer, stranger = unique_email("o"), unique_email("v"), unique_email("s")
    org_id = new_org(owner)
    add(org_id, owner, viewer, "viewer")
    unknown = call("activate", "POST", f"/orgs/{org_id}/trials", owner, {"product_id": "nope"})
    assert (unknown.status, unknown.body["field"]) == (422, "product_id")
    assert (
        call("activate", "POST", f"/orgs/{org_id}/trials", viewer, {"product_id": "perimeter-defender"}).status == 403
    )
    assert (
        call("activate", "POST", f"/orgs/{org_id}/trials", stranger, {"product_id": "perimeter-defender"}).status == 404
    )
    assert overview(org_id, owner) == {}


# -- activation ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"accept_terms": False}, "accept_terms"),
        ({"accept_terms": "true"}, "accept_terms"),  # strictly a JSON boolean
        ({"terms_version": "1999-01"}, "terms_version"),
        ({"dry_run": "yes"}, "dry_run"),
    ],
)
def test_activation_needs_the_current_terms_accepted(overrides: dict[str, Any], field: str) -> None:
    admin = unique_email("admin")
    org_id = new_org(admin)
    reply = call("activate", "POST", f"/orgs/{org_id}/activations", admin, activation(**overrides))
    assert reply.status == 422
    assert [e["field"] for e in reply.body["errors"]] == [field]
    assert overview(org_id, admin) == {}
    assert [e["action"] for e in history(org_id, admin)] == ["org_created"]


def test_stale_terms_say_which_version_is_current() -> None:
    admin = unique_email("admin")
    org_id = new_org(admin)
    reply = call("activate", "POST", f"/orgs/{org_id}/activations", admin, activation(terms_version="old"))
    assert reply.body["current_terms_version"] == CAM.terms_version


def test_a_dry_run_previews_and_writes_nothing() -> None:
    admin = unique_email("admin")
    org_id = new_org(admin)
    clock.set_now(T0)
    usage(org_id, admin, 5)
    redeem_key(org_id, admin, "camera-station-pro", 3)
    before_history = history(org_id, admin)
    reply = call("activate", "POST", f"/orgs/{org_id}/activations", admin, activation(dry_run=True))
    assert reply.status == 200
    body = reply.body
    assert (body["dry_run"], body["covered_from_wallet"], body["still_needed"]) == (True, 3, 2)
    sub = body["product"]["subscription"]
    assert sub["period_start"].startswith("2027-01-15T10:00")
    assert sub["period_end"].startswith("2028-01-15T10:00")
    assert sub["grace_ends_at"].startswith("2027-02-14T10:00")
    assert body["product"]["devices"] == 5
    # nothing written
    assert overview(org_id, admin)["camera-station-pro"]["subscription"] is None
    assert overview(org_id, admin)["camera-station-pro"]["wallet"] == 3
    assert history(org_id, admin) == before_history


def test_activation_covers_current_devices_from_the_wallet_and_happens_once() -> None:
    admin = unique_email("admin")
    org_id = new_org(admin)
    clock.set_now(T0)
    usage(org_id, admin, 5)
    redeem_key(org_id, admin, "camera-station-pro", 3)
    reply = call("activate", "POST", f"/orgs/{org_id}/activations", admin, activation())
    assert reply.status == 201
    assert (reply.body["covered_from_wallet"], reply.body["still_needed"]) == (3, 2)
    product = overview(org_id, admin)["camera-station-pro"]
    assert (product["status"], product["wallet"], product["subscription"]["licensed"]) == ("grace", 0, 3)
    assert product["subscription"]["activated_by"] == admin
    event = history(org_id, admin)[0]
    assert (event["action"], event["terms_version"], event["consumed"], event["from_wallet"]) == (
        "activated",
        CAM.terms_version,
        3,
        3,
    )
    assert (event["wallet_after"], event["licensed_after"], event["shortfall"]) == (0, 3, 2)
    again = call("activate", "POST", f"/orgs/{org_id}/activations", admin, activation())
    assert (again.status, again.body["code"]) == (409, "already_activated")
    dry_again = call("activate", "POST", f"/orgs/{org_id}/activations", admin, activation(dry_run=True))
    assert dry_again.status == 409


# -- usage --------------------------------------------------------------------------------------


def test_usage_rise_is_covered_at_once_and_a_fall_gives_nothing_back() -> None:
    admin = unique_email("admin")
    org_id = new_org(admin)
    clock.set_now(T0)
    redeem_key(org_id, admin, "camera-station-pro", 6)
    call("activate", "POST", f"/orgs/{org_id}/activations", admin, activation())  # 0 devices: nothing drawn
    up = usage(org_id, admin, 4)
    assert up.status == 200
    assert (up.body["status"], up.body["wallet"], up.body["subscription"]["licensed"]) == ("licensed", 2, 4)
    more = usage(org_id, admin, 9)
    assert (more.body["status"], more.body["wallet"], more.body["subscription"]["licensed"]) == ("grace", 0, 6)
    down = usage(org_id, admin, 2)
    assert (down.body["status"], down.body["wallet"], down.body["subscription"]["licensed"]) == ("licensed", 0, 6)
    events = [e for e in history(org_id, admin) if e["action"] == "usage_changed"]
    assert [(e["devices_before"], e["devices_after"], e["consumed"]) for e in events] == [
        (9, 2, 0),
        (4, 9, 2),
        (0, 4, 4),
    ]


def test_setting_the_same_usage_records_nothing() -> None:
    admin = unique_email("admin")
    org_id = new_org(admin)
    usage(org_id, admin, 3)
    usage(org_id, admin, 3)
    assert [e["action"] for e in history(org_id, admin)] == ["usage_changed", "org_created"]


@pytest.mark.parametrize("devices", [-1, 100_001, "5", 2.5, True, None])
def test_devices_out_of_bounds_or_of_the_wrong_type_are_422(devices: Any) -> None:
    admin = unique_email("admin")
    org_id = new_org(admin)
    reply = usage(org_id, admin, devices)
    assert reply.status == 422
    assert [e["field"] for e in reply.body["errors"]] == ["devices"]
    assert overview(org_id, admin) == {}


def test_usage_of_a_product_not_in_the_catalog_is_404() -> None:
    admin = unique_email("admin")
    org_id = new_org(admin)
    assert usage(org_id, admin, 3, product_id="not-a-product").status == 404


def test_a_removed_admin_cannot_change_anything_any_more() -> None:
    owner, admin = unique_email("owner"), unique_email("admin")
    org_id = new_org(owner)
    add(org_id, owner, admin, "admin")
    assert usage(org_id, admin, 1).status == 200
    call("orgs", "DELETE", f"/orgs/{org_id}/members/{admin}", owner)
    assert usage(org_id, admin, 2).status == 404


# -- overview and wallet --------------------------------------------------------------------------


def test_overview_explains_every_number_with_history() -> None:
    admin = unique_email("admin")
    org_id = new_org(admin)
    clock.set_now(T0)
    usage(org_id, admin, 3)
    redeem_key(org_id, admin, "camera-station-pro", 10)
    call("activate", "POST", f"/orgs/{org_id}/activations", admin, activation())
    usage(org_id, admin, 5)
    product = overview(org_id, admin)["camera-station-pro"]
    draws = [e for e in history(org_id, admin) if e.get("from_wallet")]
    assert sum(e["from_wallet"] for e in draws) == product["subscription"]["licensed"] == 5
    assert draws[0]["wallet_after"] == product["wallet"] == 5
    assert product["subscription"]["licenses_needed_at_next_renewal"] == 0
    wallet = call("overview", "GET", f"/orgs/{org_id}/wallet", admin).body["products"]
    assert wallet == [
        {
            "product_id": "camera-station-pro",
            "name": CAM.name,
            "wallet": 5,
            "devices": 5,
            "next_renewal_at": product["subscription"]["next_renewal_at"],
            "licenses_to_buy_before_next_renewal": 0,
        }
    ]


def test_a_period_that_has_begun_shows_its_renewal_as_the_sweep_will_record_it() -> None:
    # Given 3 devices, 3 licenses consumed in period 1 and nothing left in the wallet
    admin = unique_email("admin")
    org_id = new_org(admin)
    clock.set_now(T0)
    usage(org_id, admin, 3)
    redeem_key(org_id, admin, "camera-station-pro", 3)
    call("activate", "POST", f"/orgs/{org_id}/activations", admin, activation())
    assert overview(org_id, admin)["camera-station-pro"]["status"] == "licensed"
    # When period 2 has begun and the sweep has not run yet
    clock.set_now(datetime(2028, 1, 15, 10, 1, tzinfo=UTC))
    product = overview(org_id, admin)["camera-station-pro"]
    # Then the renewal is applied as the sweep will: the empty wallet covers nothing, grace
    assert product["status"] == "grace"
    sub = product["subscription"]
    assert (sub["period_number"], sub["licensed"], sub["shortfall"]) == (2, 0, 3)
    assert sub["licenses_needed_at_next_renewal"] == 3
    assert sub["next_renewal_at"].startswith("2029-01-15T10:00")
    wallet = call("overview", "GET", f"/orgs/{org_id}/wallet", admin).body["products"][0]
    assert wallet["next_renewal_at"].startswith("2029-01-15T10:00")
    clock.set_now(datetime(2028, 2, 14, 10, 2, tzinfo=UTC))
    assert overview(org_id, admin)["camera-station-pro"]["status"] == "unlicensed"


def test_a_change_after_a_period_boundary_processes_the_renewal_first() -> None:
    admin = unique_email("admin")
    org_id = new_org(admin)
    clock.set_now(T0)
    usage(org_id, admin, 2)
    redeem_key(org_id, admin, "camera-station-pro", 5)
    call("activate", "POST", f"/orgs/{org_id}/activations", admin, activation())  # licensed 2, wallet 3
    clock.set_now(datetime(2028, 3, 1, tzinfo=UTC))
    reply = usage(org_id, admin, 3)
    assert (reply.body["status"], reply.body["wallet"], reply.body["subscription"]["licensed"]) == ("licensed", 0, 3)
    newest, renewal = history(org_id, admin)[:2]
    assert (renewal["action"], renewal["actor"], renewal["consumed"]) == ("renewed", "system", 2)
    assert renewal["period_start"].startswith("2028-01-15T10:00")
    assert (newest["action"], newest["consumed"]) == ("usage_changed", 1)


class _ItemsRead:
    """What each DynamoDB call read, by call: (name, items read: ScannedCount or items returned)."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.calls: list[tuple[str, int]] = []

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.real, name)

        def recorded(**params: Any) -> Any:
            response = method(**params)
            read = response.get("ScannedCount", len(response.get("Items", [])) + int("Item" in response))
            self.calls.append((name, int(read)))
            return response

        return recorded


def test_the_overview_and_wallet_read_what_the_org_has_never_its_members(monkeypatch: pytest.MonkeyPatch) -> None:
    """One query each, reading the org item, its product states and (overview) its systems: the
    same whether the org has 2 members or 60."""
    owner = unique_email("o")
    org_id = new_org(owner)
    usage(org_id, owner, 3)
    call("activate", "POST", f"/orgs/{org_id}/trials", owner, {"product_id": "perimeter-defender"})
    register(org_id, owner)
    viewer = unique_email("v")
    add(org_id, owner, viewer, "viewer")

    def reads() -> tuple[list[tuple[str, int]], list[tuple[str, int]]]:
        recorder = _ItemsRead(dynamo.client())
        with monkeypatch.context() as patched:
            patched.setattr(dynamo, "client", lambda: recorder)
            assert call("overview", "GET", f"/orgs/{org_id}/overview", viewer).status == 200
            overview_calls = list(recorder.calls)
            recorder.calls.clear()
            assert call("overview", "GET", f"/orgs/{org_id}/wallet", viewer).status == 200
            return overview_calls, list(recorder.calls)

    few = reads()
    assert few == ([("query", 1 + 2 + 1)], [("query", 1 + 2)])  # org + 2 products (+ 1 system)
    for i in range(58):
        add(org_id, owner, unique_email(f"m{i}"), "viewer")
    assert reads() == few


def test_overview_is_one_query_with_the_membership_check(monkeypatch: pytest.MonkeyPatch) -> None:
    owner, stranger = unique_email("o"), unique_email("s")
    org_id = new_org(owner)
    for i in range(5):
        add(org_id, owner, unique_email(f"m{i}"), "viewer")
    usage(org_id, owner, 3)
    call("activate", "POST", f"/orgs/{org_id}/trials", owner, {"product_id": "perimeter-defender"})
    with counting_calls(monkeypatch) as calls:
        assert set(overview(org_id, owner)) == {"camera-station-pro", "perimeter-defender"}
        assert calls == ["query"]
        calls.clear()
        assert call("overview", "GET", f"/orgs/{org_id}/overview", stranger).status == 404
        assert calls == ["query"]


def test_a_product_withdrawn_from_the_catalog_still_shows_its_licenses(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given 7 licenses redeemed for a product
    admin = unique_email("admin")
    org_id = new_org(admin)
    redeem_key(org_id, admin, "perimeter-defender", 7)
    # When the vendor withdraws that product from the catalog
    catalog = load_catalog()
    withdrawn = catalog.model_copy(
        update={"products": tuple(p for p in catalog.products if p.product_id != "perimeter-defender")}
    )
    monkeypatch.setattr(service, "load_catalog", lambda: withdrawn)
    # Then the org still sees its licenses, by id
    retired = overview(org_id, admin)["perimeter-defender"]
    assert (retired["name"], retired["wallet"]) == ("perimeter-defender", 7)
    wallet = call("overview", "GET", f"/orgs/{org_id}/wallet", admin).body["products"]
    assert [(w["product_id"], w["wallet"]) for w in wallet] == [("perimeter-defender", 7)]


def test_viewers_read_the_overview_and_wallet_but_cannot_change() -> None:
    owner, viewer = unique_email("o"), unique_email("v")
    org_id = new_org(owner)
    add(org_id, owner, viewer, "viewer")
    assert call("overview", "GET", f"/orgs/{org_id}/overview", viewer).status == 200
    assert call("overview", "GET", f"/orgs/{org_id}/wallet", viewer).status == 200
    assert usage(org_id, viewer, 3).status == 403
    assert call("activate", "POST", f"/orgs/{org_id}/activations", viewer, activation()).status == 403


# -- optimistic locking ---------------------------------------------------------------------------


def test_a_concurrent_change_between_read_and_write_is_not_lost(monkeypatch: pytest.MonkeyPatch) -> None:
    admin = unique_email("admin")
    org_id = new_org(admin)
    clock.set_now(T0)
    redeem_key(org_id, admin, "camera-station-pro", 10)
    call("activate", "POST", f"/orgs/{org_id}/activations", admin, activation())
    real_load = licensing_store.load
    interfered: list[bool] = []

    def load_then_someone_else_writes(*args: Any) -> licensing_store.Loaded:
        loaded = real_load(*args)
        if not interfered:
            interfered.append(True)
            assert usage(org_id, admin, 4).status == 200  # another admin, between our read and write
        return loaded

    monkeypatch.setattr(licensing_store, "load", load_then_someone_else_writes)
    reply = usage(org_id, admin, 6)
    monkeypatch.setattr(licensing_store, "load", real_load)
    # our write was retried on fresh state: 0 -> 4 (theirs) then 4 -> 6 (ours), nothing lost
    assert (reply.body["devices"], reply.body["wallet"], reply.body["subscription"]["licensed"]) == (6, 4, 6)
    changes = [
        (e["devices_before"], e["devices_after"]) for e in history(org_id, admin) if e["action"] == "usage_changed"
    ]
    assert changes == [(4, 6), (0, 4)]


def test_retries_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    admin = unique_email("admin")
    org_id = new_org(admin)

    def always_stale(*_args: Any, **_kwargs: Any) -> None:
        raise StaleState("someone else, again")

    with monkeypatch.context() as patched:
        patched.setattr(licensing_store, "write", always_stale)
        patched.setattr(dynamo, "backoff", lambda _attempt: 0.0)
        reply = usage(org_id, admin, 3)
    assert reply.status == 503
    assert reply.headers["retry-after"] == "1"
    assert unit_of_work.MAX_ATTEMPTS >= 3

"""License keys: issuing, revoking and redeeming through the real handlers, against moto."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from license_manager import clock
from license_manager.domain.license_keys import from_random
from license_manager.domain.throttle import MAX_FAILURES, WINDOW
from license_manager.store import dynamo
from license_manager.store import license_keys as keys_store
from tests.conftest import TABLE
from tests.helpers import Reply, call, counting_calls, unique_email

pytestmark = pytest.mark.usefixtures("table")

VENDOR = "vera@vendor.example"
CAM = "camera-station-pro"


def issue(licenses: int = 5, count: int = 1, product_id: str = CAM) -> list[dict[str, str]]:
    reply = call(
        "admin_keys",
        "POST",
        "/admin/license-keys",
        VENDOR,
        {"product_id": product_id, "licenses": licenses, "count": count},
        groups=["vendor-admin"],
    )
    assert reply.status == 201, reply.body
    return list(reply.body["keys"])


def new_org(admin: str) -> str:
    return str(call("orgs", "POST", "/orgs", admin, {"name": "Acme"}).body["org_id"])


def redeem(org_id: str, email: str, key: str) -> Reply:
    return call("redeem", "POST", f"/orgs/{org_id}/redemptions", email, {"license_key": key})


def product(org_id: str, email: str, product_id: str = CAM) -> dict[str, Any]:
    body = call("overview", "GET", f"/orgs/{org_id}/overview", email).body
    return next(p for p in body["products"] if p["product_id"] == product_id)


def history(org_id: str, email: str) -> list[dict[str, Any]]:
    return list(call("orgs", "GET", f"/orgs/{org_id}/history", email, query={"limit": "100"}).body["events"])


def activate(org_id: str, email: str, devices: int) -> None:
    call("activate", "PUT", f"/orgs/{org_id}/products/{CAM}/usage", email, {"devices": devices})
    reply = call(
        "activate",
        "POST",
        f"/orgs/{org_id}/activations",
        email,
        {"product_id": CAM, "accept_terms": True, "terms_version": "2026-01"},
    )
    assert reply.status == 201


def all_items() -> list[dict[str, Any]]:
    return list(boto3.client("dynamodb", region_name="eu-north-1").scan(TableName=TABLE)["Items"])


# -- issuing ------------------------------------------------------------------------------------


def test_vendor_issues_a_batch_and_only_hashes_are_stored() -> None:
    keys = issue(licenses=7, count=3)
    assert len(keys) == 3
    assert all(len(k["license_key"]) == 29 and k["license_key"].count("-") == 4 for k in keys)
    stored = json.dumps(all_items())
    for k in keys:
        assert k["license_key"].replace("-", "") not in stored
        assert k["license_key"] not in stored
        assert k["key_id"] in stored
    assert '"keys_issued"' in stored  # the vendor's own log line


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"product_id": CAM, "licenses": 0, "count": 1}, "licenses"),
        ({"product_id": CAM, "licenses": 10_001, "count": 1}, "licenses"),
        ({"product_id": CAM, "licenses": 5, "count": 0}, "count"),
        ({"product_id": CAM, "licenses": 5, "count": 51}, "count"),
        ({"product_id": CAM, "licenses": "5", "count": 1}, "licenses"),
    ],
)
def test_batch_limits(body: dict[str, Any], field: str) -> None:
    reply = call("admin_keys", "POST", "/admin/license-keys", VENDOR, body, groups=["vendor-admin"])
    assert reply.status == 422
    assert [e["field"] for e in reply.body["errors"]] == [field]


def test_only_vendor_staff_issue_and_revoke() -> None:
    key_id = issue()[0]["key_id"]
    admin = unique_email("admin")
    new_org(admin)  # an org owner is not vendor staff
    for groups in (None, [], ["support"]):
        assert (
            call(
                "admin_keys",
                "POST",
                "/admin/license-keys",
                admin,
                {"product_id": CAM, "licenses": 1, "count": 1},
                groups=groups,
            ).status
            == 403
        )
        assert call("admin_keys", "POST", f"/admin/license-keys/{key_id}/revoke", admin, groups=groups).status == 403


def test_unknown_product_cannot_be_issued_and_the_field_is_named() -> None:
    # Given a product id the catalog does not have, When keys are issued for it
    reply = call(
        "admin_keys",
        "POST",
        "/admin/license-keys",
        VENDOR,
        {"product_id": "nope", "licenses": 1, "count": 1},
        groups=["vendor-admin"],
    )
    # Then it is the body's fault, named as trials and activations name it
    assert reply.status == 422
    assert reply.body["field"] == "product_id"
    assert reply.body["errors"][0]["field"] == "product_id"


# -- revoking -----------------------------------------------------------------------------------


def test_revoke_an_unredeemed_key_then_it_is_gone_for_customers() -> None:
    key = issue()[0]
    revoked = call("admin_keys", "POST", f"/admin/license-keys/{key['key_id']}/revoke", VENDOR, groups=["vendor-admin"])
    assert (revoked.status, revoked.body["status"]) == (200, "revoked")
    again = call("admin_keys", "POST", f"/admin/license-keys/{key['key_id']}/revoke", VENDOR, groups=["vendor-admin"])
    assert (again.status, again.body["revoked_at"]) == (200, revoked.body["revoked_at"])
    admin = unique_email("admin")
    org_id = new_org(admin)
    gone = redeem(org_id, admin, key["license_key"])
    assert (gone.status, gone.body["code"]) == (410, "revoked_key")


def test_a_redeemed_key_cannot_be_revoked_and_unknown_ids_are_404() -> None:
    key = issue()[0]
    admin = unique_email("admin")
    redeem(new_org(admin), admin, key["license_key"])
    refused = call("admin_keys", "POST", f"/admin/license-keys/{key['key_id']}/revoke", VENDOR, groups=["vendor-admin"])
    assert refused.status == 409
    assert (
        call("admin_keys", "POST", "/admin/license-keys/key_nope/revoke", VENDOR, groups=["vendor-admin"]).status == 404
    )


# -- redeeming ----------------------------------------------------------------------------------


def test_before_activation_every_license_goes_to_the_wallet() -> None:
    admin = unique_email("admin")
    org_id = new_org(admin)
    call("activate", "PUT", f"/orgs/{org_id}/products/{CAM}/usage", admin, {"devices": 3})
    reply = redeem(org_id, admin, issue(licenses=5)[0]["license_key"])
    assert reply.status == 201
    assert reply.body == {"product_id": CAM, "licenses": 5, "consumed": 0, "added_to_wallet": 5, "status": None}
    assert product(org_id, admin)["wallet"] == 5


def test_after_activation_the_shortfall_is_consumed_and_the_rest_saved() -> None:
    admin = unique_email("admin")
    org_id = new_org(admin)
    activate(org_id, admin, devices=3)
    key = issue(licenses=5)[0]
    reply = redeem(org_id, admin, key["license_key"].lower().replace("-", " "))
    assert reply.body == {"product_id": CAM, "licenses": 5, "consumed": 3, "added_to_wallet": 2, "status": "licensed"}
    event = history(org_id, admin)[0]
    assert (event["action"], event["licenses"], event["consumed"], event["to_wallet"], event["wallet_after"]) == (
        "key_redeemed",
        5,
        3,
        2,
        2,
    )
    assert event["key_last5"] == key["last5"] == key["license_key"][-5:]
    assert key["license_key"].replace("-", "")[:20] not in json.dumps(history(org_id, admin))


def test_redeeming_twice_says_when_for_the_same_org_and_nothing_about_another() -> None:
    key = issue()[0]["license_key"]
    alice, bob = unique_email("alice"), unique_email("bob")
    org_a, org_b = new_org(alice), new_org(bob)
    first = redeem(org_a, alice, key)
    assert first.status == 201
    same = redeem(org_a, alice, key)
    assert (same.status, same.body["code"]) == (409, "already_redeemed")
    assert "redeemed_at" in same.body
    other = redeem(org_b, bob, key)
    assert other.status == 409
    assert "redeemed_at" not in other.body
    assert org_a not in json.dumps(other.body)
    assert alice not in json.dumps(other.body)
    assert product(org_a, alice)["wallet"] == 5


def test_unknown_and_mistyped_keys() -> None:
    admin = unique_email("admin")
    org_id = new_org(admin)
    unknown = redeem(org_id, admin, from_random([7] * 24))
    assert (unknown.status, unknown.body["code"]) == (404, "unknown_key")
    real = issue()[0]["license_key"]
    typo = real[:3] + ("A" if real[3] != "A" else "B") + real[4:]
    mistyped = redeem(org_id, admin, typo)
    assert (mistyped.status, mistyped.body["code"]) == (422, "mistyped_key")
    assert [e["field"] for e in mistyped.body["errors"]] == ["license_key"]


def test_mistyped_keys_never_reach_the_database(monkeypatch: pytest.MonkeyPatch) -> None:
    admin = unique_email("admin")
    org_id = new_org(admin)
    with monkeypatch.context() as patched:
        patched.setattr(dynamo, "client", lambda: pytest.fail("a mistyped key reached the database"))
        assert redeem(org_id, admin, "7K3QF-9ZP2M-4R8TA-XW6DN-B1CVX").status == 422


def test_a_redemption_takes_at_most_three_database_calls(monkeypatch: pytest.MonkeyPatch) -> None:
    admin = unique_email("admin")
    org_id = new_org(admin)
    activate(org_id, admin, devices=2)
    key = issue()[0]["license_key"]
    with counting_calls(monkeypatch) as calls:
        assert redeem(org_id, admin, key).status == 201
        assert calls == ["batch_get_item", "get_item", "transact_write_items"]
        calls.clear()
        assert redeem(org_id, admin, key).status == 409  # refused: the read says so
        assert calls == ["batch_get_item"]


def test_viewers_and_strangers_cannot_redeem() -> None:
    owner, viewer, stranger = unique_email("o"), unique_email("v"), unique_email("s")
    org_id = new_org(owner)
    call("orgs", "POST", f"/orgs/{org_id}/members", owner, {"email": viewer, "role": "viewer"})
    key = issue()[0]["license_key"]
    assert redeem(org_id, viewer, key).status == 403
    assert redeem(org_id, stranger, key).status == 404
    assert redeem(org_id, owner, key).status == 201  # still issued: the refusals changed nothing


# -- throttling ---------------------------------------------------------------------------------


def test_failed_redemptions_are_throttled_per_org_and_the_window_passes() -> None:
    admin, other = unique_email("admin"), unique_email("other")
    org_id, other_org = new_org(admin), new_org(other)
    clock.set_now(datetime(2027, 5, 1, 12, tzinfo=UTC))
    guesses = [from_random([i] * 23 + [5]) for i in range(MAX_FAILURES + 1)]
    for guess in guesses[:MAX_FAILURES]:
        assert redeem(org_id, admin, guess).status == 404
    blocked = redeem(org_id, admin, guesses[-1])
    assert blocked.status == 429
    assert 1 <= int(blocked.headers["retry-after"]) <= WINDOW.total_seconds()
    good = issue()[0]["license_key"]
    assert redeem(org_id, admin, good).status == 429  # even a real key waits: guessing is pointless
    assert redeem(other_org, other, guesses[0]).status == 404  # other orgs are not affected
    clock.set_now(datetime(2027, 5, 1, 12, tzinfo=UTC) + WINDOW + timedelta(seconds=1))
    assert redeem(org_id, admin, good).status == 201


def test_mistypes_and_own_double_clicks_do_not_count_as_failures() -> None:
    admin = unique_email("admin")
    org_id = new_org(admin)
    key = issue()[0]["license_key"]
    assert redeem(org_id, admin, key).status == 201
    for _ in range(MAX_FAILURES + 2):
        assert redeem(org_id, admin, key).status == 409
        assert redeem(org_id, admin, "nonsense").status == 422
    assert redeem(org_id, admin, issue()[0]["license_key"]).status == 201


# -- the worked example of docs/rules.md, with real keys----------------------------------------------


def test_worked_example_with_keys_and_conservation_from_history() -> None:
    admin = unique_email("admin")
    org_id = new_org(admin)

    def at(*args: int) -> None:
        clock.set_now(datetime(*args, tzinfo=UTC))  # type: ignore[arg-type, misc]

    def usage(devices: int) -> None:
        assert (
            call("activate", "PUT", f"/orgs/{org_id}/products/{CAM}/usage", admin, {"devices": devices}).status == 200
        )

    at(2027, 1, 15, 10)
    activate(org_id, admin, devices=3)
    assert product(org_id, admin)["status"] == "grace"
    at(2027, 1, 20)
    assert redeem(org_id, admin, issue(licenses=5)[0]["license_key"]).body["consumed"] == 3
    assert product(org_id, admin)["status"] == "licensed"
    at(2027, 1, 25)
    usage(5)
    at(2027, 3, 1)
    usage(7)
    assert product(org_id, admin)["status"] == "unlicensed"
    at(2027, 3, 2)
    usage(4)
    assert product(org_id, admin)["status"] == "licensed"
    at(2027, 3, 3)
    ten = redeem(org_id, admin, issue(licenses=10)[0]["license_key"])
    assert (ten.body["consumed"], ten.body["added_to_wallet"]) == (0, 10)
    at(2028, 1, 15, 10, 1)
    before_any_write = product(org_id, admin)  # period 2, shown as its renewal will be recorded
    assert (before_any_write["status"], before_any_write["subscription"]["licensed"]) == ("licensed", 4)
    assert before_any_write["wallet"] == 6
    usage(4)  # the same count: no usage change, but the due renewal is processed (and recorded)
    p = product(org_id, admin)
    assert p == before_any_write  # recording it changes nothing the org sees
    assert (p["status"], p["subscription"]["licensed"], p["wallet"]) == ("licensed", 4, 6)
    events = history(org_id, admin)
    redeemed = sum(e["licenses"] for e in events if e["action"] == "key_redeemed")
    consumed = sum(e["consumed"] or 0 for e in events)
    assert redeemed == 15 == p["wallet"] + consumed
    assert [e["consumed"] for e in reversed(events) if e["consumed"]] == [3, 2, 4]


def test_two_revocations_at_once_both_answer_the_revoked_key(monkeypatch: pytest.MonkeyPatch) -> None:
    key = issue()[0]
    real_get = keys_store.get_key
    path = f"/admin/license-keys/{key['key_id']}/revoke"

    def read_then_the_other_revocation_lands(kid: str) -> Any:
        stale = real_get(kid)  # still issued when this request read it
        monkeypatch.setattr(keys_store, "get_key", real_get)
        first = call("admin_keys", "POST", path, VENDOR, groups=["vendor-admin"])
        assert first.status == 200
        return stale

    monkeypatch.setattr(keys_store, "get_key", read_then_the_other_revocation_lands)
    second = call("admin_keys", "POST", path, VENDOR, groups=["vendor-admin"])
    assert (second.status, second.body["status"]) == (200, "revoked")


def test_a_redemption_before_activation_records_licensed_zero() -> None:
    admin = unique_email("admin")
    org_id = new_org(admin)
    redeem(org_id, admin, issue(licenses=4)[0]["license_key"])
    event = history(org_id, admin)[0]
    assert (
        event["licenses"],
        event["consumed"],
        event["to_wallet"],
        event["wallet_after"],
        event["licensed_after"],
    ) == (
        4,
        0,
        4,
        4,
        0,
    )

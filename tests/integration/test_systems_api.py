"""Installed systems through the real handlers, against moto (KMS signs as AWS KMS does)."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest

from license_manager import clock
from tests.helpers import Reply, call, http_event, invoke, unique_email

pytestmark = pytest.mark.usefixtures("table")

CAM = "camera-station-pro"
T0 = datetime(2027, 1, 15, 10, tzinfo=UTC)


def system(method: str, path: str, credential: str | None, body: Any = None) -> Reply:
    headers = {"Authorization": f"Bearer {credential}"} if credential else {}
    return invoke("systems", http_event(method, path, body=body, headers=headers))


def new_org(admin: str) -> str:
    return str(call("orgs", "POST", "/orgs", admin, {"name": "Acme"}).body["org_id"])


def code_for(org_id: str, admin: str) -> str:
    reply = call("systems", "POST", f"/orgs/{org_id}/systems/registration-codes", admin)
    assert reply.status == 201, reply.body
    return str(reply.body["code"])


def register(org_id: str, admin: str, name: str = "Gate cameras", product: str = CAM) -> dict[str, str]:
    reply = system(
        "POST", "/systems/register", None, {"code": code_for(org_id, admin), "name": name, "product_id": product}
    )
    assert reply.status == 201, reply.body
    return dict(reply.body)


def overview(org_id: str, admin: str) -> dict[str, Any]:
    return {p["product_id"]: p for p in call("overview", "GET", f"/orgs/{org_id}/overview", admin).body["products"]}


def history(org_id: str, admin: str) -> list[dict[str, Any]]:
    return list(call("orgs", "GET", f"/orgs/{org_id}/history", admin, query={"limit": "100"}).body["events"])


def redeem(org_id: str, admin: str, licenses: int) -> None:
    body = {"product_id": CAM, "licenses": licenses, "count": 1}
    key = call("admin_keys", "POST", "/admin/license-keys", "v@vendor.example", body, groups=["vendor-admin"])
    reply = call(
        "redeem", "POST", f"/orgs/{org_id}/redemptions", admin, {"license_key": key.body["keys"][0]["license_key"]}
    )
    assert reply.status == 201, reply.body


def verify(token: str) -> dict[str, Any]:
    """With a standard JOSE library and the published keys only: no project code. The times are
    checked against the service's clock (moved by these tests), not the machine's."""
    keys = system("GET", "/.well-known/jwks.json", None).body["keys"]
    kid = jwt.get_unverified_header(token)["kid"]
    key = jwt.PyJWK(next(k for k in keys if k["kid"] == kid))
    options: Any = {"require": ["exp", "iat", "sub"], "verify_exp": False, "verify_iat": False}
    claims = dict(jwt.decode(token, key=key.key, algorithms=["ES256"], options=options))
    assert claims["iat"] <= clock.now().timestamp() < claims["exp"]
    return claims


# -- registration -------------------------------------------------------------------------------------


def test_an_admin_makes_a_one_time_code_valid_for_a_day() -> None:
    admin, viewer = unique_email("admin"), unique_email("viewer")
    org_id = new_org(admin)
    call("orgs", "POST", f"/orgs/{org_id}/members", admin, {"email": viewer, "role": "viewer"})
    clock.set_now(T0)
    reply = call("systems", "POST", f"/orgs/{org_id}/systems/registration-codes", admin)
    assert reply.status == 201
    assert reply.body["code"].startswith("REG-")
    assert reply.body["expires_at"].startswith("2027-01-16T10:00")
    assert call("systems", "POST", f"/orgs/{org_id}/systems/registration-codes", viewer).status == 403
    assert call("systems", "POST", f"/orgs/{org_id}/systems/registration-codes", unique_email("x")).status == 404


def test_software_registers_once_with_a_code_and_gets_its_credential() -> None:
    admin = unique_email("admin")
    org_id = new_org(admin)
    code = code_for(org_id, admin)
    first = system(
        "POST", "/systems/register", None, {"code": code.lower().replace("-", ""), "name": "Site A", "product_id": CAM}
    )
    assert first.status == 201, first.body
    assert first.body["system_id"].startswith("sys_" + org_id.removeprefix("org_"))
    assert (first.body["org_id"], first.body["product_id"], first.body["name"]) == (org_id, CAM, "Site A")
    assert len(first.body["credential"]) >= 40
    again = system("POST", "/systems/register", None, {"code": code, "name": "Site B", "product_id": CAM})
    assert (again.status, again.body["code"]) == (410, "code_used")
    listed = call("systems", "GET", f"/orgs/{org_id}/systems", admin).body["systems"]
    assert [s["name"] for s in listed] == ["Site A"]


@pytest.mark.parametrize(
    ("code", "status"),
    [("REG-00000-00000-00000-00000", 401), ("REG-123", 422), ("not a code", 422), ("REG-UUUUU-00000-00000-00000", 422)],
)
def test_a_code_that_is_unknown_or_malformed_registers_nothing(code: str, status: int) -> None:
    admin = unique_email("admin")
    org_id = new_org(admin)
    reply = system("POST", "/systems/register", None, {"code": code, "name": "X", "product_id": CAM})
    assert reply.status == status
    assert reply.content_type == "application/problem+json"
    assert call("systems", "GET", f"/orgs/{org_id}/systems", admin).body["systems"] == []


def test_an_expired_code_is_gone() -> None:
    admin = unique_email("admin")
    org_id = new_org(admin)
    clock.set_now(T0)
    code = code_for(org_id, admin)
    clock.set_now(T0 + timedelta(hours=24, seconds=1))
    reply = system("POST", "/systems/register", None, {"code": code, "name": "Late", "product_id": CAM})
    assert (reply.status, reply.body["code"]) == (410, "code_expired")
    assert overview(org_id, admin) == {}  # no trial started, nothing registered


def test_registering_starts_the_orgs_trial_once() -> None:
    admin = unique_email("admin")
    org_id = new_org(admin)
    clock.set_now(T0)
    registered = register(org_id, admin)
    product = overview(org_id, admin)[CAM]
    assert product["status"] == "trial"
    assert product["trial"]["started_at"].startswith("2027-01-15T10:00")
    register(org_id, admin, name="Second site")
    events = history(org_id, admin)
    assert [e["action"] for e in events].count("trial_started") == 1
    joined = [e for e in events if e["action"] == "system_registered"]
    assert {e["actor"] for e in joined} >= {f"system:{registered['system_id']}"}
    assert {e["system_name"] for e in joined} == {"Gate cameras", "Second site"}


# -- usage ---------------------------------------------------------------------------------------------


def test_the_orgs_devices_are_what_it_declares_plus_what_its_systems_report() -> None:
    # Given an activated product with 5 licenses in the wallet and 1 device declared by an admin
    admin = unique_email("admin")
    org_id = new_org(admin)
    clock.set_now(T0)
    redeem(org_id, admin, 5)
    body = {"product_id": CAM, "accept_terms": True, "terms_version": "2026-01"}
    assert call("activate", "POST", f"/orgs/{org_id}/activations", admin, body).status == 201
    call("activate", "PUT", f"/orgs/{org_id}/products/{CAM}/usage", admin, {"devices": 1})
    a, b = register(org_id, admin, "Site A"), register(org_id, admin, "Site B")
    # When two systems report 2 and 3 devices
    assert system("PUT", f"/systems/{a['system_id']}/usage", a["credential"], {"devices": 2}).status == 200
    reply = system("PUT", f"/systems/{b['system_id']}/usage", b["credential"], {"devices": 3})
    # Then the org runs 1 + 2 + 3 = 6 devices: the wallet covered 5 of them, 1 is short
    assert (reply.body["org_devices"], reply.body["status"]) == (6, "grace")
    product = overview(org_id, admin)[CAM]
    assert (product["devices"], product["declared_devices"], product["subscription"]["licensed"]) == (6, 1, 5)
    assert sorted((s["name"], s["devices"]) for s in product["systems"]) == [("Site A", 2), ("Site B", 3)]
    reported = [
        e for e in history(org_id, admin) if e["action"] == "usage_changed" and e["actor"].startswith("system:")
    ]
    assert [(e["devices_before"], e["devices_after"], e["system_name"]) for e in reported] == [
        (3, 6, "Site B"),
        (1, 3, "Site A"),
    ]
    # And an admin's count changes only the declared part
    call("activate", "PUT", f"/orgs/{org_id}/products/{CAM}/usage", admin, {"devices": 0})
    assert overview(org_id, admin)[CAM]["devices"] == 5


def test_a_wrong_credential_or_another_systems_id_reports_nothing() -> None:
    admin = unique_email("admin")
    org_id = new_org(admin)
    a, b = register(org_id, admin, "A"), register(org_id, admin, "B")
    for path_id, credential in [
        (a["system_id"], b["credential"]),
        (a["system_id"], "x" * 43),
        ("sys_nope", a["credential"]),
    ]:
        reply = system("PUT", f"/systems/{path_id}/usage", credential, {"devices": 9})
        assert reply.status == 401, reply.body
    assert system("PUT", f"/systems/{a['system_id']}/usage", None, {"devices": 9}).status == 401
    assert overview(org_id, admin)[CAM]["devices"] == 0


# -- the signed license ---------------------------------------------------------------------------------


def test_the_license_is_signed_and_verifies_with_the_published_keys() -> None:
    admin = unique_email("admin")
    org_id = new_org(admin)
    clock.set_now(T0)
    redeem(org_id, admin, 5)
    body = {"product_id": CAM, "accept_terms": True, "terms_version": "2026-01"}
    call("activate", "POST", f"/orgs/{org_id}/activations", admin, body)
    s = register(org_id, admin)
    system("PUT", f"/systems/{s['system_id']}/usage", s["credential"], {"devices": 3})
    reply = system("GET", f"/systems/{s['system_id']}/license", s["credential"])
    assert reply.status == 200, reply.body
    token = reply.body["license"]
    header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    assert header["alg"] == "ES256"
    claims = verify(token)
    assert claims["sub"] == s["system_id"]
    assert (claims["org_id"], claims["product_id"], claims["status"]) == (org_id, CAM, "licensed")
    assert (claims["devices"], claims["licensed"], claims["system_devices"]) == (3, 3, 3)
    assert claims["period_end"] == int(datetime(2028, 1, 15, 10, tzinfo=UTC).timestamp())
    assert claims["exp"] - claims["iat"] <= 30 * 86400
    # a license whose signature is touched does not verify
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    with pytest.raises(jwt.InvalidSignatureError):
        verify(forged)


def test_a_license_never_outlives_the_status_it_states() -> None:
    # Given 3 devices, no license: grace ends 30 days after activation
    admin = unique_email("admin")
    org_id = new_org(admin)
    clock.set_now(T0)
    body = {"product_id": CAM, "accept_terms": True, "terms_version": "2026-01"}
    call("activate", "POST", f"/orgs/{org_id}/activations", admin, body)
    s = register(org_id, admin)
    system("PUT", f"/systems/{s['system_id']}/usage", s["credential"], {"devices": 3})
    clock.set_now(T0 + timedelta(days=25))
    claims = verify(system("GET", f"/systems/{s['system_id']}/license", s["credential"]).body["license"])
    assert claims["status"] == "grace"
    assert claims["exp"] == int(datetime(2027, 2, 14, 10, tzinfo=UTC).timestamp())  # the grace end, not 30 days
    # past the grace period, the next license says unlicensed
    clock.set_now(T0 + timedelta(days=31))
    assert (
        verify(system("GET", f"/systems/{s['system_id']}/license", s["credential"]).body["license"])["status"]
        == "unlicensed"
    )


def test_license_fetches_are_rate_limited_per_system() -> None:
    admin = unique_email("admin")
    org_id = new_org(admin)
    s = register(org_id, admin)
    assert system("GET", f"/systems/{s['system_id']}/license", s["credential"]).status == 200
    again = system("GET", f"/systems/{s['system_id']}/license", s["credential"])
    assert again.status == 429
    assert int(again.headers["retry-after"]) >= 1


# -- credentials and removal ------------------------------------------------------------------------------


def test_a_rotated_credential_replaces_the_old_one_at_once() -> None:
    admin = unique_email("admin")
    org_id = new_org(admin)
    s = register(org_id, admin)
    rotated = system("POST", f"/systems/{s['system_id']}/credential", s["credential"])
    assert rotated.status == 200
    fresh = rotated.body["credential"]
    assert fresh != s["credential"]
    assert system("PUT", f"/systems/{s['system_id']}/usage", s["credential"], {"devices": 1}).status == 401
    assert system("PUT", f"/systems/{s['system_id']}/usage", fresh, {"devices": 1}).status == 200


def test_removing_a_system_stops_its_credential_and_its_devices_leave() -> None:
    admin, viewer = unique_email("admin"), unique_email("viewer")
    org_id = new_org(admin)
    call("orgs", "POST", f"/orgs/{org_id}/members", admin, {"email": viewer, "role": "viewer"})
    s = register(org_id, admin)
    system("PUT", f"/systems/{s['system_id']}/usage", s["credential"], {"devices": 4})
    assert call("systems", "DELETE", f"/orgs/{org_id}/systems/{s['system_id']}", viewer).status == 403
    removed = call("systems", "DELETE", f"/orgs/{org_id}/systems/{s['system_id']}", admin)
    assert (removed.status, removed.body) == (204, "")
    assert system("PUT", f"/systems/{s['system_id']}/usage", s["credential"], {"devices": 5}).status == 401
    assert system("GET", f"/systems/{s['system_id']}/license", s["credential"]).status == 401
    assert overview(org_id, admin)[CAM]["devices"] == 0
    listed = call("systems", "GET", f"/orgs/{org_id}/systems", viewer).body["systems"]
    assert [(x["status"], x["devices"]) for x in listed] == [("removed", 0)]
    gone = next(e for e in history(org_id, admin) if e["action"] == "system_removed")
    assert (gone["actor"], gone["system_id"]) == (admin, s["system_id"])
    assert call("systems", "DELETE", f"/orgs/{org_id}/systems/{s['system_id']}", admin).status == 404


def test_another_orgs_admin_cannot_see_or_remove_a_system() -> None:
    admin, stranger = unique_email("admin"), unique_email("stranger")
    org_id = new_org(admin)
    other = new_org(stranger)
    s = register(org_id, admin)
    assert call("systems", "DELETE", f"/orgs/{other}/systems/{s['system_id']}", stranger).status == 404
    assert call("systems", "GET", f"/orgs/{org_id}/systems", stranger).status == 404


def test_a_system_not_seen_for_a_week_is_flagged() -> None:
    admin = unique_email("admin")
    org_id = new_org(admin)
    clock.set_now(T0)
    register(org_id, admin)
    clock.set_now(T0 + timedelta(days=6))
    assert [s["stale"] for s in overview(org_id, admin)[CAM]["systems"]] == [False]
    clock.set_now(T0 + timedelta(days=7, seconds=1))  # the dev clock ticks on: clear of the boundary
    assert [s["stale"] for s in overview(org_id, admin)[CAM]["systems"]] == [True]
    assert [s["stale"] for s in call("systems", "GET", f"/orgs/{org_id}/systems", admin).body["systems"]] == [True]


# -- offline sites -------------------------------------------------------------------------------------


def system_file(devices: int, created_at: datetime, nonce: str = "n0nce-000001") -> dict[str, Any]:
    return {
        "system_id": "off_7k3qf9zp2m4r8taxw6dn",
        "name": "Harbour (offline)",
        "product_id": CAM,
        "devices": devices,
        "created_at": created_at.isoformat(),
        "nonce": nonce,
    }


def test_an_offline_site_gets_its_license_through_an_admin() -> None:
    admin = unique_email("admin")
    org_id = new_org(admin)
    clock.set_now(T0)
    first = call("systems", "POST", f"/orgs/{org_id}/systems/offline", admin, system_file(2, T0))
    assert first.status == 200, first.body
    claims = verify(first.body["license"])
    assert (claims["sub"], claims["system_devices"], claims["status"]) == ("off_7k3qf9zp2m4r8taxw6dn", 2, "trial")
    # a newer file updates the devices; the same file again changes nothing; an older one is refused
    clock.set_now(T0 + timedelta(days=1))
    newer = call(
        "systems",
        "POST",
        f"/orgs/{org_id}/systems/offline",
        admin,
        system_file(5, T0 + timedelta(days=1), "n0nce-000002"),
    )
    assert verify(newer.body["license"])["system_devices"] == 5
    same = call(
        "systems",
        "POST",
        f"/orgs/{org_id}/systems/offline",
        admin,
        system_file(5, T0 + timedelta(days=1), "n0nce-000002"),
    )
    assert same.status == 200
    older = call(
        "systems",
        "POST",
        f"/orgs/{org_id}/systems/offline",
        admin,
        system_file(1, T0 + timedelta(hours=1), "n0nce-000003"),
    )
    assert (older.status, older.body["code"]) == (409, "stale_system_file")
    product = overview(org_id, admin)[CAM]
    assert product["devices"] == 5
    assert [(s["kind"], s["devices"]) for s in product["systems"]] == [("offline", 5)]
    changes = [e for e in history(org_id, admin) if e["action"] == "usage_changed"]
    assert [(e["devices_before"], e["devices_after"], e["actor"]) for e in changes] == [(2, 5, admin), (0, 2, admin)]


def test_a_system_file_is_checked_like_any_body() -> None:
    admin = unique_email("admin")
    org_id = new_org(admin)
    bad = {**system_file(2, T0), "system_id": "sys_not_offline"}
    assert call("systems", "POST", f"/orgs/{org_id}/systems/offline", admin, bad).status == 422
    naive = {**system_file(2, T0), "created_at": "2027-01-15T10:00:00"}
    assert call("systems", "POST", f"/orgs/{org_id}/systems/offline", admin, naive).status == 422

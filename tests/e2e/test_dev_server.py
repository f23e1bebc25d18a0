"""The dev server over real HTTP: tokens, routing, errors, clock, OpenAPI, orgs end to end."""

from __future__ import annotations

import base64
import json
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.e2e.conftest import token_for
from tests.helpers import http, path_quote, unique_email
from tools.openapi import OUTPUT


def test_a_dev_token_signs_in(base_url: str, user: tuple[str, str]) -> None:
    _, token = user
    reply = http("GET", f"{base_url}/products", token=token)
    assert reply.status == 200
    assert len(reply.body["products"]) >= 3


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def test_tokens_it_did_not_sign_are_401(base_url: str, user: tuple[str, str]) -> None:
    _email, token = user
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    forged_payload = _b64({**claims, "email": "boss@example.com"})
    bad = {
        "no token": None,
        "garbage": "not.a.jwt",
        "tampered payload": f"{header}.{forged_payload}.{signature}",
        "bad signature": f"{header}.{payload}.{signature[:-4]}AAAA",
        "alg none": f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{payload}.",
        "alg none, forged": f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{forged_payload}.",
    }
    for name, value in bad.items():
        reply = http("GET", f"{base_url}/orgs", token=value)
        assert reply.status == 401, name
        assert reply.content_type == "application/problem+json", name
    basic = http("GET", f"{base_url}/orgs", headers={"authorization": "Basic YTpi"})
    assert basic.status == 401


def test_an_expired_token_is_401(base_url: str) -> None:
    token = token_for(base_url, unique_email(), ttl=1)
    assert http("GET", f"{base_url}/orgs", token=token).status == 200
    time.sleep(2.2)
    assert http("GET", f"{base_url}/orgs", token=token).status == 401


def test_unknown_routes_are_problem_404s_with_or_without_a_token(base_url: str, user: tuple[str, str]) -> None:
    _, token = user
    for t in (None, token):
        reply = http("GET", f"{base_url}/no/such/route", token=t)
        assert reply.status == 404
        assert reply.content_type == "application/problem+json"
    wrong_method = http("PATCH", f"{base_url}/orgs", {}, token=token)
    assert wrong_method.status == 404


def test_malformed_and_mistyped_bodies(base_url: str, user: tuple[str, str]) -> None:
    _, token = user
    malformed = http("POST", f"{base_url}/orgs", raw=b'{"name": ', token=token)
    assert (malformed.status, malformed.content_type) == (400, "application/problem+json")
    mistyped = http("POST", f"{base_url}/orgs", {"name": ["Acme"]}, token=token)
    assert mistyped.status == 422
    assert mistyped.body["errors"][0]["field"] == "name"
    assert http("GET", f"{base_url}/orgs", token=token).body["orgs"] == []


def test_org_members_and_history_end_to_end(base_url: str) -> None:
    owner, admin, viewer, stranger = (unique_email(n) for n in ("owner", "admin", "viewer", "stranger"))
    t_owner, t_viewer, t_stranger = (token_for(base_url, e) for e in (owner, viewer, stranger))
    org = http("POST", f"{base_url}/orgs", {"name": "Camera Co"}, token=t_owner)
    assert org.status == 201
    org_id = org.body["org_id"]
    members = f"{base_url}/orgs/{org_id}/members"
    assert http("POST", members, {"email": admin, "role": "admin"}, token=t_owner).status == 201
    assert http("POST", members, {"email": viewer, "role": "viewer"}, token=t_owner).status == 201
    assert http("GET", members, token=t_viewer).status == 403
    assert http("GET", members, token=t_stranger).status == 404
    assert http("GET", f"{base_url}/orgs/{org_id}/history", token=t_stranger).status == 404
    assert http("DELETE", f"{members}/{path_quote(admin)}", token=t_owner).status == 204
    history = http("GET", f"{base_url}/orgs/{org_id}/history", token=t_viewer)
    assert history.status == 200
    assert [e["action"] for e in history.body["events"]] == [
        "member_removed",
        "member_added",
        "member_added",
        "org_created",
    ]


def test_the_dev_clock_drives_every_function(base_url: str, user: tuple[str, str]) -> None:
    _email, token = user
    try:
        set_reply = http("POST", f"{base_url}/_dev/clock", {"now": "2027-01-15T10:00:00Z"})
        assert set_reply.status == 200
        assert set_reply.body["now"].startswith("2027-01-15T10:00:0")
        org_id = http("POST", f"{base_url}/orgs", {"name": "Time Co"}, token=token).body["org_id"]
        event = http("GET", f"{base_url}/orgs/{org_id}/history", token=token).body["events"][0]
        assert event["at"].startswith("2027-01-15T10:00:")
        assert http("GET", f"{base_url}/_dev/clock").body["now"].startswith("2027-01-15T10:")
        assert http("POST", f"{base_url}/_dev/clock", {"now": "next tuesday"}).status == 422
        assert http("POST", f"{base_url}/_dev/clock", {"now": "2027-01-15T10:00:00"}).status == 422  # no offset
    finally:
        assert http("POST", f"{base_url}/_dev/clock", {"now": None}).status == 200
    assert http("GET", f"{base_url}/_dev/clock").body["now"][:4] == time.strftime("%Y", time.gmtime())


def test_openapi_is_served_and_matches_the_committed_document(base_url: str) -> None:
    reply = http("GET", f"{base_url}/openapi.json")
    assert reply.status == 200
    assert reply.body == json.loads(OUTPUT.read_text())


def test_concurrent_member_additions_all_land_with_their_history(base_url: str, user: tuple[str, str]) -> None:
    _, token = user
    org_id = http("POST", f"{base_url}/orgs", {"name": "Busy Co"}, token=token).body["org_id"]
    emails = [unique_email(f"m{i}") for i in range(24)]
    with ThreadPoolExecutor(max_workers=12) as pool:
        replies = list(
            pool.map(
                lambda e: http(
                    "POST", f"{base_url}/orgs/{org_id}/members", {"email": e, "role": "viewer"}, token=token
                ),
                emails,
            )
        )
    assert [r.status for r in replies] == [201] * 24, [r.body for r in replies if r.status != 201]
    members = http("GET", f"{base_url}/orgs/{org_id}/members", token=token).body["members"]
    assert len(members) == 25
    history = http("GET", f"{base_url}/orgs/{org_id}/history?limit=100", token=token).body["events"]
    assert sorted(e["member_email"] for e in history if e["action"] == "member_added") == sorted(emails)


@pytest.mark.parametrize("attempt", range(3))
def test_two_owners_removing_each_other_at_once_leave_one_owner(base_url: str, attempt: int) -> None:
    a, b = unique_email(f"a{attempt}"), unique_email(f"b{attempt}")
    ta, tb = token_for(base_url, a), token_for(base_url, b)
    org_id = http("POST", f"{base_url}/orgs", {"name": "Race Co"}, token=ta).body["org_id"]
    assert http("POST", f"{base_url}/orgs/{org_id}/members", {"email": b, "role": "owner"}, token=ta).status == 201
    members = f"{base_url}/orgs/{org_id}/members"
    with ThreadPoolExecutor(max_workers=2) as pool:
        ra = pool.submit(http, "DELETE", f"{members}/{path_quote(b)}", None, ta)
        rb = pool.submit(http, "DELETE", f"{members}/{path_quote(a)}", None, tb)
        statuses = sorted([ra.result().status, rb.result().status])
    # one removal wins; the other is refused (409 last owner, or 404 if its caller was already removed)
    assert statuses[0] == 204
    assert statuses[1] in (404, 409)
    survivor = a if ra.result().status == 204 else b
    token = ta if survivor == a else tb
    remaining = http("GET", members, token=token).body["members"]
    assert [(m["email"], m["role"]) for m in remaining] == [(survivor, "owner")]


def test_concurrent_requests_never_see_each_others_bodies(base_url: str, user: tuple[str, str]) -> None:
    # Given many different requests in flight at once (Lambda gives each its own environment)
    _, token = user
    names = [f"Org {i:02d}" for i in range(24)]
    # When they run concurrently
    with ThreadPoolExecutor(max_workers=12) as pool:
        replies = list(pool.map(lambda n: http("POST", f"{base_url}/orgs", {"name": n}, token=token), names))
    # Then each answer is for its own request, and each org exists once
    assert [r.body["name"] for r in replies] == names
    mine = http("GET", f"{base_url}/orgs", token=token).body["orgs"]
    assert sorted(o["name"] for o in mine) == sorted(names)

"""Malformed requests get a clear 4xx problem and change nothing (the robustness issue, classes 1-3, 7).

Each case goes through the real handler as API Gateway would send it; afterwards the org's
state and history are read back to show nothing changed.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from tests.helpers import Reply, call, claims_for, function_module, http_event, invoke, path_quote, unique_email
from tools.functions import FakeContext

pytestmark = pytest.mark.usefixtures("table")

PROBLEM = "application/problem+json"


def raw(function: str, method: str, path: str, email: str, body: str, **kw: Any) -> Reply:
    return invoke(function, http_event(method, path, raw_body=body, claims=claims_for(email), **kw))


def new_org(owner: str, name: str = "Acme") -> str:
    reply = call("orgs", "POST", "/orgs", owner, {"name": name})
    assert reply.status == 201, reply.body
    return str(reply.body["org_id"])


def snapshot(org_id: str, owner: str) -> tuple[Any, Any, Any]:
    """Everything an org's owner can read: nothing a refused request does may change it."""
    overview = call("overview", "GET", f"/orgs/{org_id}/overview", owner).body["products"]
    history = call("orgs", "GET", f"/orgs/{org_id}/history", owner).body["events"]
    members = call("orgs", "GET", f"/orgs/{org_id}/members", owner).body["members"]
    return overview, history, members


def assert_problem(reply: Reply, status: int) -> None:
    assert reply.status == status, reply.body
    assert reply.content_type == PROBLEM
    assert set(reply.body) >= {"type", "title", "status", "detail"}
    assert reply.body["status"] == status


BODY_ROUTES = [
    ("orgs", "POST", "/orgs"),
    ("orgs", "POST", "/orgs/{org}/members"),
    ("activate", "POST", "/orgs/{org}/trials"),
    ("activate", "POST", "/orgs/{org}/activations"),
    ("activate", "PUT", "/orgs/{org}/products/camera-station-pro/usage"),
    ("redeem", "POST", "/orgs/{org}/redemptions"),
]


@pytest.mark.parametrize(("function", "method", "template"), BODY_ROUTES)
@pytest.mark.parametrize(
    ("case", "body", "b64"),
    [
        ("not UTF-8", base64.b64encode(b'{"name": "\xff\xfe"}').decode(), True),
        ("latin-1 bytes", base64.b64encode('{"devices": 1, "x": "é"}'.encode("latin-1")).decode(), True),
        ("lone surrogate", '{"name": "\ud800"}', False),
        ("nested 2000 deep", "[" * 2000 + "]" * 2000, False),
        ("nested 40 deep in an object", '{"a":' * 40 + "1" + "}" * 40, False),
        ("truncated", '{"devices": ', False),
        ("NaN", '{"devices": NaN}', False),
        ("huge integer", '{"devices": ' + "9" * 5000 + "}", False),
        ("bad base64", "%%%not-base64%%%", True),
    ],
)
def test_undecodable_bodies_are_400_on_every_route(
    function: str, method: str, template: str, case: str, body: str, b64: bool
) -> None:
    owner = unique_email("owner")
    org_id = new_org(owner)
    before = snapshot(org_id, owner)
    event = http_event(method, template.format(org=org_id), raw_body=body, claims=claims_for(owner))
    event["isBase64Encoded"] = b64
    reply = invoke(function, event)
    assert_problem(reply, 400)
    assert snapshot(org_id, owner) == before, case


@pytest.mark.parametrize(("function", "method", "template"), BODY_ROUTES)
@pytest.mark.parametrize(
    "content_type",
    ["APPLICATION/JSON", "Application/Json; charset=UTF-8", "application/merge-patch+json", "application/vnd.x+json"],
)
def test_json_media_types_are_compared_case_insensitively(
    function: str, method: str, template: str, content_type: str
) -> None:
    # Given a JSON body sent with a JSON media type in any spelling
    owner = unique_email("owner")
    org_id = new_org(owner)
    body = {"name": "Other"} if template == "/orgs" else {"devices": 2}
    reply = raw(function, method, template.format(org=org_id), owner, json.dumps(body), content_type=content_type)
    # Then it is read as JSON: never a 500, never a 415
    assert reply.status < 500
    assert reply.status != 415


@pytest.mark.parametrize(("function", "method", "template"), BODY_ROUTES)
@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "application/json; charset=latin-1", "jsonx"]
)
def test_other_media_types_are_415(function: str, method: str, template: str, content_type: str) -> None:
    owner = unique_email("owner")
    org_id = new_org(owner)
    before = snapshot(org_id, owner)
    reply = raw(function, method, template.format(org=org_id), owner, '{"devices": 2}', content_type=content_type)
    assert_problem(reply, 415)
    assert snapshot(org_id, owner) == before


@pytest.mark.parametrize(
    "body",
    [
        '[{"devices": 7}, {"devices": 9}]',
        '[{"devices": 7}]',
        '"devices"',
        "7",
        "null",
        "true",
    ],
)
def test_a_body_that_is_not_an_object_is_422_and_changes_nothing(body: str) -> None:
    owner = unique_email("owner")
    org_id = new_org(owner)
    before = snapshot(org_id, owner)
    reply = raw("activate", "PUT", f"/orgs/{org_id}/products/camera-station-pro/usage", owner, body)
    assert_problem(reply, 422)
    assert reply.body["errors"][0]["field"] == "body"
    assert snapshot(org_id, owner) == before


def test_a_redemption_sent_as_an_array_redeems_nothing() -> None:
    owner, vendor = unique_email("owner"), "vera@vendor.example"
    org_id = new_org(owner)
    issued = call(
        "admin_keys",
        "POST",
        "/admin/license-keys",
        vendor,
        {"product_id": "camera-station-pro", "licenses": 3, "count": 1},
        groups=["vendor-admin"],
    )
    key = issued.body["keys"][0]["license_key"]
    reply = raw("redeem", "POST", f"/orgs/{org_id}/redemptions", owner, json.dumps([{"license_key": key}]))
    assert_problem(reply, 422)
    # the key is still unredeemed: the org can redeem it now
    assert call("redeem", "POST", f"/orgs/{org_id}/redemptions", owner, {"license_key": key}).status == 201


@pytest.mark.parametrize(
    "body",
    ['{"devices": 2, "devices": 100000}', '{"devices": 2, "extra": {"a": 1, "a": 2}}'],
)
def test_a_member_given_twice_is_422_and_changes_nothing(body: str) -> None:
    owner = unique_email("owner")
    org_id = new_org(owner)
    before = snapshot(org_id, owner)
    reply = raw("activate", "PUT", f"/orgs/{org_id}/products/camera-station-pro/usage", owner, body)
    assert_problem(reply, 422)
    assert snapshot(org_id, owner) == before


def test_a_body_over_the_limit_is_413() -> None:
    owner = unique_email("owner")
    reply = raw("orgs", "POST", "/orgs", owner, json.dumps({"name": "x" * 70_000}))
    assert_problem(reply, 413)


@pytest.mark.parametrize(
    "name",
    [
        "Evil\u0000Corp",
        "\u200b",
        "Acme\u202eevil",
        "A\tB",
        "line\nbreak",
        "\u2066Iso\u2069",
        "\ufeffBOM",
        "  ",
        "a\u00adb",
    ],
)
def test_org_names_with_hidden_characters_are_refused_naming_the_field(name: str) -> None:
    owner = unique_email("owner")
    reply = call("orgs", "POST", "/orgs", owner, {"name": name})
    assert_problem(reply, 422)
    assert reply.body["errors"][0]["field"] == "name"
    assert call("orgs", "GET", "/orgs", owner).body["orgs"] == []


def test_org_names_are_kept_in_one_normal_form() -> None:
    owner = unique_email("owner")
    decomposed = "Cafe\u0301 Se\u0301curite\u0301"  # e + combining acute accent
    reply = call("orgs", "POST", "/orgs", owner, {"name": decomposed})
    assert reply.status == 201
    assert reply.body["name"] == "Café Sécurité"  # composed (NFC)


@pytest.mark.parametrize(
    "email",
    ["\u202eadmin@x.com", "ad\u200bmin@x.com", "a\u0000@x.com", "000", "a@b", "bob@x..com", "bob\n@example.com"],
)
def test_member_emails_with_hidden_characters_or_no_address_are_refused(email: str) -> None:
    owner = unique_email("owner")
    org_id = new_org(owner)
    before = snapshot(org_id, owner)
    reply = call("orgs", "POST", f"/orgs/{org_id}/members", owner, {"email": email, "role": "admin"})
    assert_problem(reply, 422)
    assert reply.body["errors"][0]["field"] == "email"
    assert snapshot(org_id, owner) == before


def test_a_path_email_with_hidden_characters_is_refused() -> None:
    owner = unique_email("owner")
    org_id = new_org(owner)
    reply = call("orgs", "DELETE", f"/orgs/{org_id}/members/{path_quote(chr(0x202E) + owner)}", owner)
    assert_problem(reply, 422)


def test_a_token_whose_email_has_hidden_characters_is_not_signed_in() -> None:
    reply = call("orgs", "GET", "/orgs", "\u202eadmin@x.com")
    assert_problem(reply, 401)


def test_removing_a_member_answers_204_with_no_body() -> None:
    owner, bob = unique_email("owner"), unique_email("bob")
    org_id = new_org(owner)
    call("orgs", "POST", f"/orgs/{org_id}/members", owner, {"email": bob, "role": "viewer"})
    event = http_event("DELETE", f"/orgs/{org_id}/members/{path_quote(bob)}", claims=claims_for(owner))
    result = function_module("orgs").lambda_handler(event, FakeContext("orgs", timeout_seconds=10))
    assert result["statusCode"] == 204
    assert result["body"] == ""
    assert not {k.lower() for k in result.get("headers", {})} & {"content-type"}

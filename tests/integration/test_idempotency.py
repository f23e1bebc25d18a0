"""Every POST accepts an Idempotency-Key: a retry gets the first answer and has no second effect."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from license_manager.store import answers, dynamo
from tests.helpers import Reply, call, unique_email

pytestmark = pytest.mark.usefixtures("table")

VENDOR = "vera@vendor.example"


def post(function: str, path: str, email: str, body: Any, key: str | None, **kw: Any) -> Reply:
    headers = {"Idempotency-Key": key} if key else {}
    return call(function, "POST", path, email, body, headers=headers, **kw)


def orgs_of(email: str) -> list[dict[str, Any]]:
    return list(call("orgs", "GET", "/orgs", email).body["orgs"])


def test_creating_an_org_twice_with_one_key_creates_one_org() -> None:
    # Given a client that lost the answer to POST /orgs and retries it with the same key
    alice = unique_email("alice")
    first = post("orgs", "/orgs", alice, {"name": "Acme"}, "org-create-0001")
    retry = post("orgs", "/orgs", alice, {"name": "Acme"}, "org-create-0001")
    # Then the retry gets the first answer, and there is one org
    assert (first.status, retry.status) == (201, 201)
    assert retry.body == first.body
    assert [o["org_id"] for o in orgs_of(alice)] == [first.body["org_id"]]
    history = call("orgs", "GET", f"/orgs/{first.body['org_id']}/history", alice).body["events"]
    assert [e["action"] for e in history] == ["org_created"]


def test_without_a_key_each_post_is_a_new_request() -> None:
    alice = unique_email("alice")
    post("orgs", "/orgs", alice, {"name": "Acme"}, None)
    post("orgs", "/orgs", alice, {"name": "Acme"}, None)
    assert len(orgs_of(alice)) == 2


def test_the_same_key_with_another_body_is_422_and_changes_nothing() -> None:
    alice = unique_email("alice")
    post("orgs", "/orgs", alice, {"name": "Acme"}, "org-create-0002")
    other = post("orgs", "/orgs", alice, {"name": "Other"}, "org-create-0002")
    assert other.status == 422
    assert other.body["code"] == "idempotency_key_reused"
    assert [o["name"] for o in orgs_of(alice)] == ["Acme"]


def test_keys_belong_to_their_caller() -> None:
    alice, bob = unique_email("alice"), unique_email("bob")
    mine = post("orgs", "/orgs", alice, {"name": "Acme"}, "shared-key-0001")
    theirs = post("orgs", "/orgs", bob, {"name": "Acme"}, "shared-key-0001")
    assert theirs.status == 201
    assert theirs.body["org_id"] != mine.body["org_id"]


@pytest.mark.parametrize("key", ["short", "has space in it", "x" * 256, "tab\there-0001"])
def test_a_malformed_key_is_422(key: str) -> None:
    reply = post("orgs", "/orgs", unique_email(), {"name": "Acme"}, key)
    assert reply.status == 422


def test_a_retry_racing_the_first_request_still_makes_one_org(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a retry that looked for the first answer before the first request committed
    alice = unique_email("alice")
    first = post("orgs", "/orgs", alice, {"name": "Acme"}, "org-create-race1")
    monkeypatch.setattr(answers, "get", lambda *_args: None)
    # When it runs its own change, Then the change is refused as a whole and the first answer comes back
    retry = post("orgs", "/orgs", alice, {"name": "Acme"}, "org-create-race1")
    assert (retry.status, retry.body) == (201, first.body)
    assert len(orgs_of(alice)) == 1


def issue(key: str | None, count: int = 3) -> Reply:
    body = {"product_id": "camera-station-pro", "licenses": 5, "count": count}
    return post("admin_keys", "/admin/license-keys", VENDOR, body, key, groups=["vendor-admin"])


def test_a_retried_key_issuance_returns_the_same_keys_and_issues_no_more() -> None:
    first = issue("batch-retry-0001")
    retry = issue("batch-retry-0001")
    assert (first.status, retry.status) == (201, 201)
    assert retry.body == first.body
    assert len({k["license_key"] for k in first.body["keys"]}) == 3
    # the keys work, once
    admin = unique_email("admin")
    org_id = post("orgs", "/orgs", admin, {"name": "Acme"}, None).body["org_id"]
    key = first.body["keys"][0]["license_key"]
    assert post("redeem", f"/orgs/{org_id}/redemptions", admin, {"license_key": key}, None).status == 201


def test_no_issued_key_rests_in_the_clear_in_the_table() -> None:
    # Given a batch issued with an Idempotency-Key (its answer is remembered for retries)
    batch = issue("batch-clear-0001")
    plain = [k["license_key"] for k in batch.body["keys"]]
    symbols = [p.replace("-", "") for p in plain]
    # When the whole table is read
    client = boto3.client("dynamodb", region_name="eu-north-1")
    everything = str(client.scan(TableName=dynamo.table_name())["Items"])
    # Then no key appears in it, with or without dashes
    assert not [p for p in [*plain, *symbols] if p in everything]


def test_a_retried_redemption_answers_the_same_and_counts_once() -> None:
    admin = unique_email("admin")
    org_id = post("orgs", "/orgs", admin, {"name": "Acme"}, None).body["org_id"]
    key = issue(None, count=1).body["keys"][0]["license_key"]
    first = post("redeem", f"/orgs/{org_id}/redemptions", admin, {"license_key": key}, "redeem-once-0001")
    retry = post("redeem", f"/orgs/{org_id}/redemptions", admin, {"license_key": key}, "redeem-once-0001")
    assert (first.status, retry.status) == (201, 201)
    assert retry.body == first.body
    wallet = call("overview", "GET", f"/orgs/{org_id}/wallet", admin).body["products"]
    assert [w["wallet"] for w in wallet] == [5]


def test_a_retried_trial_activation_and_member_add_answer_the_same() -> None:
    owner, bob = unique_email("owner"), unique_email("bob")
    org_id = post("orgs", "/orgs", owner, {"name": "Acme"}, None).body["org_id"]
    for function, path, body in [
        ("activate", f"/orgs/{org_id}/trials", {"product_id": "perimeter-defender"}),
        (
            "activate",
            f"/orgs/{org_id}/activations",
            {"product_id": "camera-station-pro", "accept_terms": True, "terms_version": "2026-01"},
        ),
        ("orgs", f"/orgs/{org_id}/members", {"email": bob, "role": "admin"}),
    ]:
        first = post(function, path, owner, body, f"retry-{function}-{len(path)}")
        retry = post(function, path, owner, body, f"retry-{function}-{len(path)}")
        assert first.status == retry.status == 201, (path, first.body, retry.body)
        assert retry.body == first.body
    actions = [e["action"] for e in call("orgs", "GET", f"/orgs/{org_id}/history", owner).body["events"]]
    assert sorted(actions) == ["activated", "member_added", "org_created", "trial_started"]


def test_a_retried_revocation_answers_the_same() -> None:
    key_id = issue(None, count=1).body["keys"][0]["key_id"]
    path = f"/admin/license-keys/{key_id}/revoke"
    first = post("admin_keys", path, VENDOR, None, "revoke-once-0001", groups=["vendor-admin"])
    retry = post("admin_keys", path, VENDOR, None, "revoke-once-0001", groups=["vendor-admin"])
    assert first.status == retry.status == 200
    assert retry.body == first.body

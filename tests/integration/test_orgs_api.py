"""Organizations, members and history through the real handler, against moto."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from license_manager.domain import orgs as org_rules
from license_manager.store import dynamo, keys
from license_manager.store import orgs as orgs_store
from tests.helpers import Reply, claims_for, counting_calls, http_event, invoke, path_quote, unique_email

pytestmark = pytest.mark.usefixtures("table")


def call(method: str, path: str, email: str | None, body: Any = None, **kw: Any) -> Reply:
    claims = claims_for(email) if email else None
    return invoke("orgs", http_event(method, path, body=body, claims=claims, **kw))


def new_org(owner: str, name: str = "Acme Security") -> str:
    reply = call("POST", "/orgs", owner, {"name": name})
    assert reply.status == 201, reply.body
    return str(reply.body["org_id"])


def test_creating_an_org_makes_the_caller_owner_and_records_it() -> None:
    # Given a signed-in user
    alice = unique_email("alice")
    # When she creates an org
    reply = call("POST", "/orgs", alice, {"name": "  Acme Security  "})
    # Then she is its owner, the name is trimmed, and the history says so
    assert reply.status == 201
    assert reply.body["name"] == "Acme Security"
    assert reply.body["role"] == "owner"
    org_id = reply.body["org_id"]
    orgs = call("GET", "/orgs", alice).body["orgs"]
    assert [(o["org_id"], o["role"]) for o in orgs] == [(org_id, "owner")]
    events = call("GET", f"/orgs/{org_id}/history", alice).body["events"]
    assert [(e["action"], e["actor"], e["org_name"]) for e in events] == [("org_created", alice, "Acme Security")]


def test_orgs_list_only_the_callers_orgs() -> None:
    alice, bob = unique_email("alice"), unique_email("bob")
    a1, a2 = new_org(alice, "Zeta"), new_org(alice, "alpha")
    new_org(bob, "Bob's")
    mine = call("GET", "/orgs", alice).body["orgs"]
    assert [o["org_id"] for o in mine] == [a2, a1]  # sorted by name, case-insensitive


def test_owner_adds_members_with_roles_and_they_see_the_org() -> None:
    alice, bob = unique_email("alice"), unique_email("Bob")
    org_id = new_org(alice)
    # When the owner adds Bob (mixed-case email) as admin
    added = call("POST", f"/orgs/{org_id}/members", alice, {"email": bob.upper(), "role": "admin"})
    # Then Bob is a member under his normalized email and sees the org
    assert added.status == 201
    assert added.body["email"] == bob.lower()
    assert added.body["added_by"] == alice
    members = call("GET", f"/orgs/{org_id}/members", alice).body["members"]
    assert {(m["email"], m["role"]) for m in members} == {(alice, "owner"), (bob.lower(), "admin")}
    assert [o["role"] for o in call("GET", "/orgs", bob.lower()).body["orgs"]] == ["admin"]
    event = call("GET", f"/orgs/{org_id}/history", alice).body["events"][0]
    assert (event["action"], event["member_email"], event["role"]) == ("member_added", bob.lower(), "admin")


def test_adding_an_existing_member_with_the_same_role_conflicts() -> None:
    alice, bob = unique_email("alice"), unique_email("bob")
    org_id = new_org(alice)
    call("POST", f"/orgs/{org_id}/members", alice, {"email": bob, "role": "viewer"})
    again = call("POST", f"/orgs/{org_id}/members", alice, {"email": bob, "role": "viewer"})
    assert again.status == 409
    assert again.content_type == "application/problem+json"


def test_owner_changes_a_role_and_history_keeps_the_previous_one() -> None:
    alice, bob = unique_email("alice"), unique_email("bob")
    org_id = new_org(alice)
    call("POST", f"/orgs/{org_id}/members", alice, {"email": bob, "role": "viewer"})
    changed = call("POST", f"/orgs/{org_id}/members", alice, {"email": bob, "role": "owner"})
    assert changed.status == 200
    assert changed.body["role"] == "owner"
    event = call("GET", f"/orgs/{org_id}/history", alice).body["events"][0]
    assert (event["action"], event["role"], event["previous_role"]) == ("member_role_changed", "owner", "viewer")
    # and now alice may step down, because bob is an owner too
    assert call("POST", f"/orgs/{org_id}/members", bob, {"email": alice, "role": "admin"}).status == 200


def test_the_last_owner_can_be_neither_removed_nor_demoted() -> None:
    alice = unique_email("alice")
    org_id = new_org(alice)
    removed = call("DELETE", f"/orgs/{org_id}/members/{path_quote(alice)}", alice)
    demoted = call("POST", f"/orgs/{org_id}/members", alice, {"email": alice, "role": "admin"})
    assert (removed.status, removed.body["code"]) == (409, "last_owner")
    assert (demoted.status, demoted.body["code"]) == (409, "last_owner")
    assert [m["role"] for m in call("GET", f"/orgs/{org_id}/members", alice).body["members"]] == ["owner"]


def test_removing_a_member_takes_the_org_away_from_them() -> None:
    alice, bob = unique_email("alice"), "bob+site2@example.com"
    org_id = new_org(alice)
    call("POST", f"/orgs/{org_id}/members", alice, {"email": bob, "role": "admin"})
    # When the owner removes bob (the path carries the URL-encoded email)
    reply = call("DELETE", f"/orgs/{org_id}/members/{path_quote(bob)}", alice)
    # Then bob no longer sees the org and the history records it
    assert reply.status == 204
    assert call("GET", "/orgs", bob).body["orgs"] == []
    assert call("GET", f"/orgs/{org_id}/history", bob).status == 404
    event = call("GET", f"/orgs/{org_id}/history", alice).body["events"][0]
    assert (event["action"], event["member_email"]) == ("member_removed", bob)


def test_removing_someone_who_is_not_a_member_is_404() -> None:
    alice = unique_email("alice")
    org_id = new_org(alice)
    reply = call("DELETE", f"/orgs/{org_id}/members/{path_quote(unique_email('ghost'))}", alice)
    assert reply.status == 404


@pytest.mark.parametrize("role", ["admin", "viewer"])
def test_only_owners_manage_members(role: str) -> None:
    alice, bob, carol = unique_email("alice"), unique_email("bob"), unique_email("carol")
    org_id = new_org(alice)
    call("POST", f"/orgs/{org_id}/members", alice, {"email": bob, "role": role})
    for reply in (
        call("GET", f"/orgs/{org_id}/members", bob),
        call("POST", f"/orgs/{org_id}/members", bob, {"email": carol, "role": "viewer"}),
        call("DELETE", f"/orgs/{org_id}/members/{path_quote(alice)}", bob),
    ):
        assert reply.status == 403
        assert reply.content_type == "application/problem+json"
    # but every member reads the history
    assert call("GET", f"/orgs/{org_id}/history", bob).status == 200


def test_non_members_get_404_with_no_hint_the_org_exists() -> None:
    alice, mallory = unique_email("alice"), unique_email("mallory")
    org_id = new_org(alice)
    existing = call("GET", f"/orgs/{org_id}/history", mallory)
    missing = call("GET", "/orgs/org_00000000000000000000/history", mallory)
    assert existing.status == missing.status == 404
    assert existing.body == missing.body
    assert call("POST", f"/orgs/{org_id}/members", mallory, {"email": mallory, "role": "owner"}).status == 404


def test_history_is_newest_first_and_pages_with_an_opaque_cursor() -> None:
    alice = unique_email("alice")
    org_id = new_org(alice)
    added = [unique_email(f"m{i}") for i in range(6)]
    for email in added:
        call("POST", f"/orgs/{org_id}/members", alice, {"email": email, "role": "viewer"})
    seen: list[tuple[str, str]] = []
    cursor: str | None = None
    pages = 0
    while True:
        query = {"limit": "3", **({"cursor": cursor} if cursor else {})}
        page = call("GET", f"/orgs/{org_id}/history", alice, query=query).body
        pages += 1
        seen.extend((e["action"], e["member_email"]) for e in page["events"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    # 7 events (created + 6 added), newest first, 3 pages, no repeats, no empty last page
    assert seen == [*(("member_added", m) for m in reversed(added)), ("org_created", alice)]
    assert pages == 3


def test_a_cursor_from_another_org_or_garbage_is_refused() -> None:
    alice = unique_email("alice")
    org_a, org_b = new_org(alice, "A"), new_org(alice, "B")
    for email in (unique_email(), unique_email()):
        call("POST", f"/orgs/{org_a}/members", alice, {"email": email, "role": "viewer"})
    cursor = call("GET", f"/orgs/{org_a}/history", alice, query={"limit": "1"}).body["next_cursor"]
    assert cursor
    for bad in (cursor, "not-a-cursor", "eyJ4IjoxfQ"):
        reply = call("GET", f"/orgs/{org_b}/history", alice, query={"cursor": bad})
        assert reply.status == 422
        assert reply.body["field"] == "cursor"


@pytest.mark.parametrize("limit", ["0", "101", "ten"])
def test_history_limit_out_of_bounds_is_422_naming_the_field(limit: str) -> None:
    alice = unique_email("alice")
    org_id = new_org(alice)
    reply = call("GET", f"/orgs/{org_id}/history", alice, query={"limit": limit})
    assert reply.status == 422
    assert [e["field"] for e in reply.body["errors"]] == ["limit"]


def test_malformed_json_is_400_and_creates_nothing() -> None:
    alice = unique_email("alice")
    reply = invoke("orgs", http_event("POST", "/orgs", raw_body='{"name": "Acme"', claims=claims_for(alice)))
    assert reply.status == 400
    assert reply.content_type == "application/problem+json"
    assert set(reply.body) >= {"type", "title", "status", "detail"}
    assert call("GET", "/orgs", alice).body["orgs"] == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": 5}, "name"),
        ({}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"name": "Acme", "nmae": "typo"}, "nmae"),
    ],
)
def test_wrong_types_and_missing_fields_are_422_naming_the_field(body: dict[str, Any], field: str) -> None:
    alice = unique_email("alice")
    reply = call("POST", "/orgs", alice, body)
    assert reply.status == 422
    assert field in [e["field"] for e in reply.body["errors"]]
    assert field in reply.body["detail"]
    assert call("GET", "/orgs", alice).body["orgs"] == []


@pytest.mark.parametrize(
    ("body", "field"),
    [({"email": "not-an-email", "role": "admin"}, "email"), ({"email": "a@example.com", "role": "boss"}, "role")],
)
def test_bad_member_input_is_422(body: dict[str, Any], field: str) -> None:
    alice = unique_email("alice")
    org_id = new_org(alice)
    reply = call("POST", f"/orgs/{org_id}/members", alice, body)
    assert reply.status == 422
    assert field in reply.body["detail"]
    assert len(call("GET", f"/orgs/{org_id}/members", alice).body["members"]) == 1


def test_a_form_body_gets_415() -> None:
    alice = unique_email("alice")
    event = http_event(
        "POST",
        "/orgs",
        raw_body="name=Acme",
        claims=claims_for(alice),
        content_type="application/x-www-form-urlencoded",
    )
    reply = invoke("orgs", event)
    assert reply.status == 415
    assert reply.content_type == "application/problem+json"


def test_no_claims_is_401() -> None:
    reply = call("GET", "/orgs", None)
    assert reply.status == 401
    assert reply.content_type == "application/problem+json"


def test_unknown_route_in_a_function_is_a_problem_404() -> None:
    reply = call("GET", "/orgs/x/nothing-here", unique_email())
    assert reply.status == 404
    assert reply.content_type == "application/problem+json"


def test_unexpected_errors_are_opaque_500s(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*_: Any) -> None:
        raise RuntimeError("secret internal detail: table arn:aws:dynamodb:...")

    monkeypatch.setattr(orgs_store, "memberships_page", boom)
    reply = call("GET", "/orgs", unique_email())
    assert reply.status == 500
    assert reply.content_type == "application/problem+json"
    assert "secret" not in str(reply.body)


def test_an_unverified_email_gets_nothing_even_if_invited() -> None:
    # Given an owner who invited new.hire@... before that person signed up
    alice = unique_email("alice")
    org_id = new_org(alice)
    invited = unique_email("new.hire")
    call("POST", f"/orgs/{org_id}/members", alice, {"email": invited, "role": "admin"})
    # When someone presents a token for that address that Cognito has not verified
    claims = {**claims_for(invited), "email_verified": "false"}
    reply = invoke("orgs", http_event("GET", f"/orgs/{org_id}/history", claims=claims))
    # Then they are refused
    assert reply.status == 401


def test_an_owner_removed_while_their_request_runs_changes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    a, b, eve = unique_email("a"), unique_email("b"), unique_email("eve")
    org_id = new_org(a)
    call("POST", f"/orgs/{org_id}/members", a, {"email": b, "role": "owner"})
    real_read = orgs_store.get_members

    def b_is_removed_meanwhile(org: str, emails: Any) -> Any:
        found = real_read(org, emails)  # b's request has read that b is owner and eve is not a member...
        monkeypatch.setattr(orgs_store, "get_members", real_read)
        assert call("DELETE", f"/orgs/{org_id}/members/{path_quote(b)}", a).status == 204  # ...as a removes b
        return found

    monkeypatch.setattr(orgs_store, "get_members", b_is_removed_meanwhile)
    reply = call("POST", f"/orgs/{org_id}/members", b, {"email": eve, "role": "owner"})
    assert reply.status == 404
    members = {m["email"]: m["role"] for m in call("GET", f"/orgs/{org_id}/members", a).body["members"]}
    assert members == {a: "owner"}


def test_my_orgs_come_a_page_at_a_time_by_name() -> None:
    # Given a user in seven orgs
    alice = unique_email("alice")
    names = ["delta", "Alpha", "charlie", "Echo", "bravo", "golf", "Foxtrot"]
    ids = {name: new_org(alice, name) for name in names}
    # When she pages through them three at a time
    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        query = {"limit": "3", **({"cursor": cursor} if cursor else {})}
        page = call("GET", "/orgs", alice, query=query).body
        seen += [o["org_id"] for o in page["orgs"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    # Then she sees each once, by name regardless of case, in three pages
    assert seen == [ids[n] for n in sorted(names, key=str.casefold)]
    assert pages == 3


@pytest.mark.parametrize("cursor", ["nope", "e30", "eyJiIjoib3Jnczpzb21lb25lQGVsc2UuY29tIiwicCI6e319"])
def test_a_cursor_that_is_not_ours_is_422(cursor: str) -> None:
    reply = call("GET", "/orgs", unique_email(), query={"cursor": cursor})
    assert reply.status == 422
    assert reply.body["field"] == "cursor"


def test_another_users_cursor_is_refused() -> None:
    alice, bob = unique_email("alice"), unique_email("bob")
    for name in ("a", "b"):
        new_org(alice, name)
    cursor = call("GET", "/orgs", alice, query={"limit": "1"}).body["next_cursor"]
    assert cursor
    assert call("GET", "/orgs", bob, query={"cursor": cursor}).status == 422


def _roles_on_the_org_item(org_id: str) -> dict[str, str]:
    item = dynamo.get(keys.org_key(org_id))
    assert item is not None
    return {email: role.value for email, role in orgs_store.roles_from_item(item).items()}


def _members(org_id: str) -> dict[str, str]:
    return {m.email: m.role.value for m in orgs_store.list_members(org_id)}


def test_the_org_item_keeps_every_members_role_as_the_membership_items_do() -> None:
    """The overview authorizes from the org item's copy of the roles: it must never disagree with
    the memberships, through every kind of change and refusal."""
    owner, ann, bob = unique_email("own"), unique_email("ann"), unique_email("bob")
    org_id = new_org(owner)
    assert _roles_on_the_org_item(org_id) == _members(org_id) == {owner: "owner"}
    assert call("POST", f"/orgs/{org_id}/members", owner, {"email": ann, "role": "viewer"}).status == 201
    assert call("POST", f"/orgs/{org_id}/members", owner, {"email": bob, "role": "owner"}).status == 201
    assert call("POST", f"/orgs/{org_id}/members", owner, {"email": ann, "role": "admin"}).status == 200
    assert call("POST", f"/orgs/{org_id}/members", owner, {"email": ann, "role": "admin"}).status == 409
    assert call("DELETE", f"/orgs/{org_id}/members/{path_quote(bob)}", owner).status == 204
    assert call("DELETE", f"/orgs/{org_id}/members/{path_quote(owner)}", owner).status == 409  # last owner
    assert _roles_on_the_org_item(org_id) == _members(org_id) == {owner: "owner", ann: "admin"}
    # what the overview shows follows at once: bob is gone, ann's new role counts
    assert call_overview(org_id, bob).status == 404
    assert call_overview(org_id, ann).status == 200


def call_overview(org_id: str, email: str) -> Reply:
    return invoke("overview", http_event("GET", f"/orgs/{org_id}/overview", claims=claims_for(email)))


def test_an_org_has_at_most_max_members_and_a_refused_add_changes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(org_rules, "MAX_MEMBERS", 3)
    owner = unique_email("own")
    org_id = new_org(owner)
    for name in ("a", "b"):
        assert (
            call("POST", f"/orgs/{org_id}/members", owner, {"email": unique_email(name), "role": "viewer"}).status
            == 201
        )
    before = _members(org_id)
    reply = call("POST", f"/orgs/{org_id}/members", owner, {"email": unique_email("c"), "role": "viewer"})
    assert reply.status == 409
    assert reply.body["code"] == "too_many_members"
    assert _members(org_id) == before == _roles_on_the_org_item(org_id)
    # changing a role or removing someone still works at the limit
    someone = next(e for e, r in before.items() if r == "viewer")
    assert call("POST", f"/orgs/{org_id}/members", owner, {"email": someone, "role": "admin"}).status == 200


def test_a_member_change_sent_with_an_idempotency_key_takes_two_calls_and_its_retry_two(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    owner = unique_email("own")
    org_id = new_org(owner)
    body = {"email": unique_email("new"), "role": "viewer"}
    headers = {"Idempotency-Key": str(uuid.uuid4())}
    with counting_calls(monkeypatch) as calls:
        first = call("POST", f"/orgs/{org_id}/members", owner, body, headers=headers)
        assert calls == ["batch_get_item", "transact_write_items"]
        calls.clear()
        again = call("POST", f"/orgs/{org_id}/members", owner, body, headers=headers)
        assert calls == ["batch_get_item", "get_item"]  # decided "already a member", then the answer found
    assert first.status == again.status == 201
    assert first.body == again.body

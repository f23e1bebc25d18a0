"""Faults injected at every DynamoDB call of every write path: each operation happens once or not at all.

For each operation, a run without faults counts its DynamoDB calls. Then, for each of those
calls in turn, a fresh run hits it with one fault:
- `throttled`: DynamoDB refuses the call once (ThrottlingException); nothing ran;
- `conflict`: a transaction is cancelled by a concurrent writer once (TransactionConflict);
- `lost`: the call runs, then its answer is lost on the way back (a read timeout);
- `crash_before` / `crash_after`: the Lambda process dies just before, or just after, the call.
After a crash, the client retries the request as a client would (same Idempotency-Key). Then
the test checks the operation's effect exists exactly once, and that licenses are conserved.

DynamoDB's own guarantee is played here too: a transaction retried with the ClientRequestToken
of one that committed is answered with success and not run again.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError, ReadTimeoutError

from license_manager import clock, deadline
from license_manager.services import renewals
from license_manager.store import dynamo
from tests.helpers import Reply, call, http_event, invoke, unique_email

pytestmark = pytest.mark.usefixtures("table")

KINDS = ["throttled", "conflict", "lost", "crash_before", "crash_after"]
VENDOR = "vera@vendor.example"
CAM = "camera-station-pro"


class Crash(BaseException):
    """The Lambda process dies here: nothing after this point runs, nothing is answered."""


@dataclass
class Faulty:
    """The real client, with one fault at call number `at` (None: count calls only)."""

    real: Any
    kind: str | None = None
    at: int | None = None
    calls: int = 0
    committed: dict[str, Any] = field(default_factory=dict)

    def __getattr__(self, name: str) -> Callable[..., Any]:
        method = getattr(self.real, name)

        def faulty(**params: Any) -> Any:
            index, self.calls = self.calls, self.calls + 1
            token = params.get("ClientRequestToken")
            if token in self.committed:  # DynamoDB answers a committed token's retry without running it
                return self.committed[token]
            hit = index == self.at
            if hit and (self.kind == "throttled" or (self.kind == "conflict" and name != "transact_write_items")):
                raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, name)
            if hit and self.kind == "conflict":
                reasons = [{"Code": "TransactionConflict"} for _ in params["TransactItems"]]
                error: Any = {
                    "Error": {"Code": "TransactionCanceledException", "Message": "conflict"},
                    "CancellationReasons": reasons,
                }
                raise ClientError(error, name)
            if hit and self.kind == "crash_before":
                raise Crash
            result = method(**params)
            if token:
                self.committed[token] = result
            if hit and self.kind == "lost":
                raise ReadTimeoutError(endpoint_url="http://dynamodb")
            if hit and self.kind == "crash_after":
                raise Crash
            return result

        return faulty


@pytest.fixture(autouse=True)
def no_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(deadline, "sleep", lambda _s: None)


def run_with(monkeypatch: pytest.MonkeyPatch, faulty: Faulty, operation: Callable[[], Reply | None]) -> Reply | None:
    """Run `operation` through `faulty`; a crash gives no answer (None)."""
    with monkeypatch.context() as patched:
        patched.setattr(dynamo, "client", lambda: faulty)
        try:
            return operation()
        except Crash:
            return None


@dataclass
class Case:
    """An operation: `setup` makes what it needs and returns its request; `check` asserts its
    effect happened exactly once."""

    setup: Callable[[], Callable[[], Reply | None]]
    check: Callable[[], None]


def count_calls(monkeypatch: pytest.MonkeyPatch, case: Case) -> int:
    operation = case.setup()
    faulty = Faulty(dynamo.client())
    reply = run_with(monkeypatch, faulty, operation)
    assert reply is None or reply.status < 400, reply.body
    case.check()
    return faulty.calls


def exercise(monkeypatch: pytest.MonkeyPatch, make: Callable[[], Case], kind: str) -> None:
    calls = count_calls(monkeypatch, make())
    assert calls >= 1
    for at in range(calls):
        case = make()
        operation = case.setup()
        reply = run_with(monkeypatch, Faulty(dynamo.client(), kind, at), operation)
        if reply is None or reply.status >= 500:  # no answer, or "retry": the client retries
            retry = operation()
            assert retry is None or retry.status < 500, (kind, at, retry.body)
        else:
            assert reply.status < 400, (kind, at, reply.body)
        case.check()


# -- the operations ---------------------------------------------------------------------------------


def history(org_id: str, email: str) -> list[dict[str, Any]]:
    return list(call("orgs", "GET", f"/orgs/{org_id}/history", email, query={"limit": "100"}).body["events"])


def actions(org_id: str, email: str) -> list[str]:
    return sorted(e["action"] for e in history(org_id, email))


def new_org(owner: str) -> str:
    return str(call("orgs", "POST", "/orgs", owner, {"name": "Acme"}).body["org_id"])


def post(function: str, path: str, email: str, body: Any, key: str, **kw: Any) -> Callable[[], Reply]:
    return lambda: call(function, "POST", path, email, body, headers={"Idempotency-Key": key}, **kw)


def issue_key(licenses: int) -> dict[str, str]:
    body = {"product_id": CAM, "licenses": licenses, "count": 1}
    return dict(
        call("admin_keys", "POST", "/admin/license-keys", VENDOR, body, groups=["vendor-admin"]).body["keys"][0]
    )


def conserved(org_id: str, owner: str) -> None:
    events = history(org_id, owner)
    redeemed = sum(e["licenses"] or 0 for e in events if e["action"] == "key_redeemed")
    consumed = sum(e["consumed"] or 0 for e in events)
    wallet = sum(p["wallet"] for p in call("overview", "GET", f"/orgs/{org_id}/wallet", owner).body["products"])
    assert redeemed == wallet + consumed


def create_org() -> Case:
    owner = unique_email("owner")

    def check() -> None:
        (org,) = call("orgs", "GET", "/orgs", owner).body["orgs"]
        assert actions(org["org_id"], owner) == ["org_created"]

    return Case(lambda: post("orgs", "/orgs", owner, {"name": "Acme"}, "create-org-0001"), check)


def add_member() -> Case:
    owner, bob = unique_email("owner"), unique_email("bob")
    state: dict[str, str] = {}

    def setup() -> Callable[[], Reply]:
        state["org"] = new_org(owner)
        return post("orgs", f"/orgs/{state['org']}/members", owner, {"email": bob, "role": "admin"}, "add-bob-0001")

    def check() -> None:
        members = call("orgs", "GET", f"/orgs/{state['org']}/members", owner).body["members"]
        assert sorted((m["email"], m["role"]) for m in members) == sorted([(owner, "owner"), (bob, "admin")])
        assert actions(state["org"], owner) == ["member_added", "org_created"]

    return Case(setup, check)


def remove_member() -> Case:
    owner, bob = unique_email("owner"), unique_email("bob")
    state: dict[str, str] = {}

    def setup() -> Callable[[], Reply]:
        state["org"] = new_org(owner)
        call("orgs", "POST", f"/orgs/{state['org']}/members", owner, {"email": bob, "role": "owner"})
        return lambda: call("orgs", "DELETE", f"/orgs/{state['org']}/members/{bob.replace('@', '%40')}", owner)

    def check() -> None:
        members = call("orgs", "GET", f"/orgs/{state['org']}/members", owner).body["members"]
        assert [m["email"] for m in members] == [owner]
        assert actions(state["org"], owner) == ["member_added", "member_removed", "org_created"]

    return Case(setup, check)


def activate() -> Case:
    owner = unique_email("owner")
    state: dict[str, str] = {}

    def setup() -> Callable[[], Reply]:
        state["org"] = new_org(owner)
        call("activate", "PUT", f"/orgs/{state['org']}/products/{CAM}/usage", owner, {"devices": 3})
        key = issue_key(2)
        call("redeem", "POST", f"/orgs/{state['org']}/redemptions", owner, {"license_key": key["license_key"]})
        body = {"product_id": CAM, "accept_terms": True, "terms_version": "2026-01"}
        return post("activate", f"/orgs/{state['org']}/activations", owner, body, "activate-0001")

    def check() -> None:
        assert actions(state["org"], owner) == ["activated", "key_redeemed", "org_created", "usage_changed"]
        product = call("overview", "GET", f"/orgs/{state['org']}/overview", owner).body["products"][0]
        assert (product["wallet"], product["subscription"]["licensed"]) == (0, 2)
        conserved(state["org"], owner)

    return Case(setup, check)


def set_usage() -> Case:
    owner = unique_email("owner")
    state: dict[str, str] = {}

    def setup() -> Callable[[], Reply]:
        state["org"] = new_org(owner)
        call("redeem", "POST", f"/orgs/{state['org']}/redemptions", owner, {"license_key": issue_key(5)["license_key"]})
        body = {"product_id": CAM, "accept_terms": True, "terms_version": "2026-01"}
        call("activate", "POST", f"/orgs/{state['org']}/activations", owner, body)
        return lambda: call("activate", "PUT", f"/orgs/{state['org']}/products/{CAM}/usage", owner, {"devices": 4})

    def check() -> None:
        product = call("overview", "GET", f"/orgs/{state['org']}/overview", owner).body["products"][0]
        assert (product["devices"], product["wallet"], product["subscription"]["licensed"]) == (4, 1, 4)
        assert actions(state["org"], owner).count("usage_changed") == 1
        conserved(state["org"], owner)

    return Case(setup, check)


def redeem() -> Case:
    owner = unique_email("owner")
    state: dict[str, Any] = {}

    def setup() -> Callable[[], Reply]:
        state["org"] = new_org(owner)
        call("activate", "PUT", f"/orgs/{state['org']}/products/{CAM}/usage", owner, {"devices": 3})
        body = {"product_id": CAM, "accept_terms": True, "terms_version": "2026-01"}
        call("activate", "POST", f"/orgs/{state['org']}/activations", owner, body)
        state["key"] = issue_key(5)
        return post(
            "redeem",
            f"/orgs/{state['org']}/redemptions",
            owner,
            {"license_key": state["key"]["license_key"]},
            "redeem-0001",
        )

    def check() -> None:
        product = call("overview", "GET", f"/orgs/{state['org']}/overview", owner).body["products"][0]
        assert (product["wallet"], product["subscription"]["licensed"]) == (2, 3)
        assert actions(state["org"], owner).count("key_redeemed") == 1
        conserved(state["org"], owner)

    return Case(setup, check)


def issue() -> Case:
    state: dict[str, Any] = {}

    def setup() -> Callable[[], Reply]:
        state["key"] = unique_email("batch")  # a unique Idempotency-Key per run

        def operation() -> Reply:
            body = {"product_id": CAM, "licenses": 5, "count": 3}
            reply = post("admin_keys", "/admin/license-keys", VENDOR, body, state["key"], groups=["vendor-admin"])()
            state.setdefault("answers", []).append(reply)
            return reply

        return operation

    def check() -> None:
        answered = [a for a in state["answers"] if a.status == 201]
        assert answered
        assert all(a.body == answered[0].body for a in answered)  # a retry got the same keys
        items = dynamo.client().scan(TableName=dynamo.table_name())["Items"]
        batch = answered[0].body["batch_id"]
        keys = [i for i in items if i.get("batch_id", {}).get("S") == batch and i["SK"]["S"] == "KEY"]
        logged = [i for i in items if i.get("batch_id", {}).get("S") == batch and i["PK"]["S"] == "VENDOR"]
        assert (len(keys), len(logged)) == (3, 1)

    return Case(setup, check)


def revoke() -> Case:
    state: dict[str, Any] = {}

    def setup() -> Callable[[], Reply]:
        state["key"] = issue_key(5)
        path = f"/admin/license-keys/{state['key']['key_id']}/revoke"
        return post("admin_keys", path, VENDOR, None, "revoke-" + state["key"]["key_id"][-12:], groups=["vendor-admin"])

    def check() -> None:
        items = dynamo.client().scan(TableName=dynamo.table_name())["Items"]
        logged = [
            i for i in items if i.get("key_id", {}).get("S") == state["key"]["key_id"] and i["PK"]["S"] == "VENDOR"
        ]
        key = next(i for i in items if i.get("key_id", {}).get("S") == state["key"]["key_id"] and i["SK"]["S"] == "KEY")
        assert (key["status"]["S"], len(logged)) == ("revoked", 1)

    return Case(setup, check)


def registered(owner: str, org_id: str) -> dict[str, str]:
    code = call("systems", "POST", f"/orgs/{org_id}/systems/registration-codes", owner).body["code"]
    body = {"code": code, "name": "Gate", "product_id": CAM}
    return dict(invoke("systems", http_event("POST", "/systems/register", body=body)).body)


def as_system(method: str, path: str, credential: str, body: Any = None) -> Reply:
    return invoke("systems", http_event(method, path, body=body, headers={"Authorization": f"Bearer {credential}"}))


def register_system() -> Case:
    owner = unique_email("owner")
    state: dict[str, str] = {}

    def setup() -> Callable[[], Reply]:
        state["org"] = new_org(owner)
        code = call("systems", "POST", f"/orgs/{state['org']}/systems/registration-codes", owner).body["code"]
        body = {"code": code, "name": "Gate", "product_id": CAM}
        event = http_event("POST", "/systems/register", body=body, headers={"Idempotency-Key": "register-0001"})
        return lambda: invoke("systems", event)

    def check() -> None:
        systems = call("systems", "GET", f"/orgs/{state['org']}/systems", owner).body["systems"]
        assert [s["name"] for s in systems] == ["Gate"]
        assert actions(state["org"], owner) == ["org_created", "system_registered", "trial_started"]

    return Case(setup, check)


def system_reports() -> Case:
    owner = unique_email("owner")
    state: dict[str, Any] = {}

    def setup() -> Callable[[], Reply]:
        state["org"] = new_org(owner)
        call("redeem", "POST", f"/orgs/{state['org']}/redemptions", owner, {"license_key": issue_key(5)["license_key"]})
        body = {"product_id": CAM, "accept_terms": True, "terms_version": "2026-01"}
        call("activate", "POST", f"/orgs/{state['org']}/activations", owner, body)
        state["system"] = registered(owner, state["org"])
        path = f"/systems/{state['system']['system_id']}/usage"
        return lambda: as_system("PUT", path, state["system"]["credential"], {"devices": 3})

    def check() -> None:
        product = call("overview", "GET", f"/orgs/{state['org']}/overview", owner).body["products"][0]
        assert (product["devices"], product["wallet"], product["subscription"]["licensed"]) == (3, 2, 3)
        assert actions(state["org"], owner).count("usage_changed") == 1
        conserved(state["org"], owner)

    return Case(setup, check)


def remove_system() -> Case:
    owner = unique_email("owner")
    state: dict[str, Any] = {}

    def setup() -> Callable[[], Reply]:
        state["org"] = new_org(owner)
        state["system"] = registered(owner, state["org"])
        as_system(
            "PUT", f"/systems/{state['system']['system_id']}/usage", state["system"]["credential"], {"devices": 2}
        )
        return lambda: call("systems", "DELETE", f"/orgs/{state['org']}/systems/{state['system']['system_id']}", owner)

    def check() -> None:
        systems = call("systems", "GET", f"/orgs/{state['org']}/systems", owner).body["systems"]
        assert [(s["status"], s["devices"]) for s in systems] == [("removed", 0)]
        assert actions(state["org"], owner).count("system_removed") == 1
        assert call("overview", "GET", f"/orgs/{state['org']}/overview", owner).body["products"][0]["devices"] == 0

    return Case(setup, check)


OPERATIONS = {
    "create org": create_org,
    "add member": add_member,
    "remove member": remove_member,
    "activate": activate,
    "set usage": set_usage,
    "redeem": redeem,
    "issue keys": issue,
    "revoke key": revoke,
    "register a system": register_system,
    "a system reports": system_reports,
    "remove a system": remove_system,
}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("operation", sorted(OPERATIONS))
def test_every_write_happens_once_or_not_at_all(monkeypatch: pytest.MonkeyPatch, operation: str, kind: str) -> None:
    exercise(monkeypatch, OPERATIONS[operation], kind)


# -- the sweep ----------------------------------------------------------------------------------------


def subscriptions_due_twice(count: int) -> list[tuple[str, str]]:
    """`count` subscriptions activated on 15 Jan 2027 with enough in the wallet for two renewals."""
    clock.set_now(datetime(2027, 1, 15, 10, tzinfo=UTC))
    made = []
    for _ in range(count):
        owner = unique_email("owner")
        org_id = new_org(owner)
        call("activate", "PUT", f"/orgs/{org_id}/products/{CAM}/usage", owner, {"devices": 2})
        call("redeem", "POST", f"/orgs/{org_id}/redemptions", owner, {"license_key": issue_key(6)["license_key"]})
        body = {"product_id": CAM, "accept_terms": True, "terms_version": "2026-01"}
        call("activate", "POST", f"/orgs/{org_id}/activations", owner, body)
        made.append((org_id, owner))
    clock.set_now(datetime(2029, 2, 1, tzinfo=UTC))  # two periods due for each
    return made


def sweep(monkeypatch: pytest.MonkeyPatch, faulty: Faulty) -> None:
    with monkeypatch.context() as patched:
        patched.setattr(dynamo, "client", lambda: faulty)
        with contextlib.suppress(Crash):
            renewals.sweep(lambda: 10**9)


@pytest.mark.parametrize("kind", KINDS)
def test_the_sweep_renews_each_period_once_whatever_fails_between_its_pages(
    monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    monkeypatch.setattr(renewals, "PAGE_SIZE", 1)  # a page per subscription: faults fall between pages too
    subscriptions_due_twice(3)
    counting = Faulty(dynamo.client())
    sweep(monkeypatch, counting)
    for at in range(counting.calls):
        # Given three subscriptions with two periods due, When a sweep is hit by a fault at call `at`
        world = subscriptions_due_twice(3)
        sweep(monkeypatch, Faulty(dynamo.client(), kind, at))
        renewals.sweep(lambda: 10**9)  # and the next scheduled run follows
        # Then each period is renewed exactly once, and licenses are conserved
        for org_id, owner in world:
            renewed = [e["period_start"][:10] for e in history(org_id, owner) if e["action"] == "renewed"]
            assert sorted(renewed) == ["2028-01-15", "2029-01-15"], (kind, at)
            conserved(org_id, owner)

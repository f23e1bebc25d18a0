"""Each function may write only the partitions its template policy names (dynamodb:LeadingKeys):
every write path of every function is driven here through the real handlers, each written key's
partition is recorded, and the template's conditions must allow exactly those and nothing more.
moto does not enforce IAM, so this is the check that the deployed policy would not refuse a write
(or allow more than needed)."""

from __future__ import annotations

import fnmatch
import json
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest

from license_manager import clock
from license_manager.store import dynamo
from tests.helpers import EVENTS, call, function_module, http_event, invoke, unique_email
from tools.functions import FakeContext
from tools.template import load

pytestmark = pytest.mark.usefixtures("table")

CAM = "camera-station-pro"
VENDOR = "vera@vendor.example"
WRITES = {"PutItem", "UpdateItem", "DeleteItem", "ConditionCheckItem", "BatchWriteItem"}


IAM_ACTION = {  # client method (or transaction item kind) -> the IAM action it needs
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
    "PutRequest": "BatchWriteItem",
    "DeleteRequest": "BatchWriteItem",
    "get_item": "GetItem",
    "batch_get_item": "BatchGetItem",
    "query": "Query",
    "transact_get_items": "GetItem",
}


class Recorder:
    """Every partition key written (or condition-checked) through the DynamoDB client, and every
    IAM action used (with the index queried, if any), by function."""

    def __init__(self) -> None:
        self.written: dict[str, set[str]] = defaultdict(set)
        self.actions: dict[str, set[str]] = defaultdict(set)
        self.function = ""

    def client(self, real: Any) -> Any:
        recorder = self

        class Recording:
            def transact_write_items(self, **kwargs: Any) -> Any:
                for item in kwargs["TransactItems"]:
                    ((kind, action),) = item.items()
                    recorder.note(IAM_ACTION[kind], (action.get("Item") or action["Key"])["PK"]["S"])
                return real.transact_write_items(**kwargs)

            def batch_write_item(self, **kwargs: Any) -> Any:
                for requests in kwargs["RequestItems"].values():
                    for request in requests:
                        ((kind, action),) = request.items()
                        recorder.note(IAM_ACTION[kind], (action.get("Item") or action["Key"])["PK"]["S"])
                return real.batch_write_item(**kwargs)

            def __getattr__(self, name: str) -> Any:
                assert name not in {"put_item", "update_item", "delete_item"}, f"{name}: writes go through transactions"
                method = getattr(real, name)
                if name not in IAM_ACTION:
                    return method

                def read(**kwargs: Any) -> Any:
                    index = f"/index/{kwargs['IndexName']}" if "IndexName" in kwargs else ""
                    recorder.use(IAM_ACTION[name] + index)
                    return method(**kwargs)

                return read

        return Recording()

    def note(self, action: str, pk: str) -> None:
        if self.function:
            self.use(action)
            self.written[self.function].add(pk)

    def use(self, action: str) -> None:
        if self.function:  # set-up done by the tests themselves is nobody's
            self.actions[self.function].add(action)

    @contextmanager
    def acting_as(self, function: str) -> Iterator[None]:
        self.function = function
        try:
            yield
        finally:
            self.function = ""


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> Recorder:
    recording = Recorder()
    real = dynamo.client()
    wrapped = recording.client(real)
    monkeypatch.setattr(dynamo, "client", lambda: wrapped)
    return recording


def allowed_prefixes(function: str) -> list[str]:
    """The LeadingKeys patterns of `function`'s write statement in template.yaml."""
    props = load()["Resources"][function]["Properties"]
    patterns: list[str] = []
    for policy in props.get("Policies", []):
        for statement in policy.get("Statement", []):
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            if not any(a.split(":")[1] in WRITES | {"TransactWriteItems"} for a in actions):
                continue
            condition = statement.get("Condition", {}).get("ForAllValues:StringLike", {})
            assert "dynamodb:LeadingKeys" in condition, f"{function}: a write statement without LeadingKeys"
            patterns.extend(str(p) for p in condition["dynamodb:LeadingKeys"])
    return patterns


def keyed(reply: Any) -> Any:
    assert reply.status < 300, reply.body
    return reply.body


def with_key(name: str) -> dict[str, str]:
    return {"Idempotency-Key": f"{name}-{unique_email()}"}


def drive_every_write_path(rec: Recorder) -> None:
    admin, member = unique_email("admin"), unique_email("member")
    with rec.acting_as("OrgsFunction"):
        org_id = keyed(call("orgs", "POST", "/orgs", admin, {"name": "Acme"}, headers=with_key("org")))["org_id"]
        path = f"/orgs/{org_id}"
        keyed(call("orgs", "POST", f"{path}/members", admin, {"email": member, "role": "admin"}, headers=with_key("m")))
        keyed(call("orgs", "DELETE", f"{path}/members/{member}", admin))
        keyed(call("orgs", "GET", "/orgs", admin))
        keyed(call("orgs", "GET", f"{path}/members", admin))
        keyed(call("orgs", "GET", f"{path}/history", admin))
    with rec.acting_as("ActivateFunction"):
        keyed(call("activate", "POST", f"{path}/trials", admin, {"product_id": CAM}, headers=with_key("t")))
        keyed(call("activate", "PUT", f"{path}/products/{CAM}/usage", admin, {"devices": 3}))
        body = {"product_id": CAM, "accept_terms": True, "terms_version": "2026-01"}
        keyed(call("activate", "POST", f"{path}/activations", admin, body, headers=with_key("a")))
    with rec.acting_as("AdminKeysFunction"):
        body = {"product_id": CAM, "licenses": 2, "count": 2}
        keys = keyed(
            call(
                "admin_keys",
                "POST",
                "/admin/license-keys",
                VENDOR,
                body,
                groups=["vendor-admin"],
                headers=with_key("k"),
            )
        )["keys"]
        revoke = f"/admin/license-keys/{keys[1]['key_id']}/revoke"
        keyed(call("admin_keys", "POST", revoke, VENDOR, groups=["vendor-admin"], headers=with_key("r")))
    clock.set_now(clock.now() + timedelta(days=400))  # a renewal has fallen due: the next change settles it
    with rec.acting_as("ActivateFunction"):
        keyed(call("activate", "PUT", f"{path}/products/{CAM}/usage", admin, {"devices": 4}))
    clock.set_now(clock.now() + timedelta(days=400))
    with rec.acting_as("RedeemFunction"):
        redeem = f"{path}/redemptions"
        keyed(call("redeem", "POST", redeem, admin, {"license_key": keys[0]["license_key"]}, headers=with_key("x")))
        refused = call("redeem", "POST", redeem, admin, {"license_key": keys[1]["license_key"]})
        assert refused.status == 410  # revoked: counted as a failure in the org's window
    clock.set_now(clock.now() + timedelta(days=400))
    with rec.acting_as("SystemsFunction"):
        code = keyed(call("systems", "POST", f"{path}/systems/registration-codes", admin, headers=with_key("c")))[
            "code"
        ]
        registered = keyed(
            invoke(
                "systems",
                http_event(
                    "POST",
                    "/systems/register",
                    body={"code": code, "name": "Gate", "product_id": CAM},
                    headers=with_key("reg"),
                ),
            )
        )
        system_id, credential = registered["system_id"], registered["credential"]

        def as_system(method: str, url: str, body: Any = None, **headers: str) -> Any:
            all_headers = {"Authorization": f"Bearer {credential}", **headers}
            return keyed(invoke("systems", http_event(method, url, body=body, headers=all_headers)))

        as_system("PUT", f"/systems/{system_id}/usage", {"devices": 5})
        as_system("GET", f"/systems/{system_id}/license")
        credential = as_system("POST", f"/systems/{system_id}/credential", **with_key("rot"))["credential"]
        keyed(call("systems", "GET", f"{path}/systems", admin))
        keyed(call("systems", "DELETE", f"{path}/systems/{system_id}", admin))
    with rec.acting_as("OverviewFunction"):
        keyed(call("overview", "GET", f"{path}/overview", admin))
        keyed(call("overview", "GET", f"{path}/wallet", admin))
    with rec.acting_as("CatalogFunction"):
        keyed(call("catalog", "GET", "/products", admin))
        keyed(call("catalog", "GET", "/resellers", admin))
    clock.set_now(clock.now() + timedelta(days=400))
    with rec.acting_as("RenewalCronFunction"):
        event = json.loads((EVENTS / "eventbridge-scheduled.json").read_text())
        summary = function_module("renewal_cron").lambda_handler(event, FakeContext("RenewalCron", timeout_seconds=300))
        assert summary["renewed"] >= 1
        assert summary["published"] >= 1


def test_every_write_stays_inside_its_functions_leading_keys(recorder: Recorder) -> None:
    drive_every_write_path(recorder)
    assert set(recorder.written) == {
        "OrgsFunction",
        "ActivateFunction",
        "AdminKeysFunction",
        "RedeemFunction",
        "SystemsFunction",
        "RenewalCronFunction",
    }
    for function, partitions in recorder.written.items():
        patterns = allowed_prefixes(function)
        outside = {pk for pk in partitions if not any(fnmatch.fnmatchcase(pk, p) for p in patterns)}
        assert not outside, f"{function} writes {sorted(outside)}, which its policy would refuse"
        unused = {p for p in patterns if not any(fnmatch.fnmatchcase(pk, p) for pk in partitions)}
        assert not unused, f"{function}'s policy allows {sorted(unused)}, which it never writes"


def test_functions_that_only_read_have_no_write_statement() -> None:
    for function in ("OverviewFunction", "CatalogFunction"):
        assert allowed_prefixes(function) == []

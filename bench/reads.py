"""DynamoDB calls and items read per operation, through the dev server as a client sees it.

Every operation of the API is sent over HTTP to a dev server running in this process; its
embedded DynamoDB reports each call it serves (`EmbeddedDynamo.observers`), so what is counted is
exactly what the functions asked of the database. The figures are checked against GOALS: the
benchmark fails if an operation makes more calls than its goal, or reads more items. The org
has 60 members, 3 products and 2 systems, and 200 history events, so a read that followed the
members or the history would show.

    python -m bench.reads     prints the section
"""

from __future__ import annotations

import json
import os
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from tests.helpers import Reply, http

MEMBERS = 60
HISTORY = 200


@dataclass(frozen=True)
class Goal:
    calls: int
    items_read: int | None = None  # None: not a goal for this operation (what it reads is its answer)


# what each operation may cost at most: calls, and items read (the whole partition or index read
# by a query counts: DynamoDB bills and waits for what it scans, not for what a filter keeps)
GOALS: dict[str, Goal] = {
    "create an org": Goal(1, 0),
    "list my orgs (a page of 50)": Goal(1),
    "add a member": Goal(2, 2),
    "add a member (Idempotency-Key)": Goal(2, 2),
    "retry of that request": Goal(2, 3),
    "change a role": Goal(2, 2),
    "remove a member": Goal(2, 2),
    "list members": Goal(2),
    "overview": Goal(1, 1 + 3 + 2),  # the org item, 3 product states, 2 systems
    "wallet": Goal(1, 1 + 3),
    "history (a page of 50)": Goal(2, 1 + 51),
    "set usage": Goal(2, 2),
    "start a trial": Goal(2, 2),
    "activate (dry run)": Goal(1, 2),
    "activate": Goal(2, 2),
    "redeem a key": Goal(3, 4),
    "redeem a mistyped key": Goal(0, 0),
    "issue 10 keys": Goal(1, 0),
    "revoke a key": Goal(2, 1),
    "register a system": Goal(3),  # the code, the state, one transaction
    "a system reports its devices": Goal(3),  # the system, the state, one transaction
    "a system fetches its license": Goal(3),  # the system, the state, the once-per-10-s mark
}


@dataclass
class _Counter:
    calls: list[tuple[str, int]] = field(default_factory=list)  # (operation, items read)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def observe(self, target: str, request: bytes, status: str, answer: bytes) -> None:
        if not target.startswith("DynamoDB_"):
            return
        operation = target.rsplit(".", 1)[-1]
        try:
            body = json.loads(answer or b"{}")
        except ValueError:
            body = {}
        if operation in ("Query", "Scan"):
            read = int(body.get("ScannedCount", 0))
        elif operation == "GetItem":
            read = int("Item" in body)
        elif operation in ("BatchGetItem", "TransactGetItems"):
            responses = body.get("Responses", {})
            read = sum(len(v) for v in responses.values()) if isinstance(responses, dict) else len(responses)
        else:
            read = 0
        with self.lock:
            self.calls.append((operation, read))

    @contextmanager
    def measuring(self) -> Iterator[list[tuple[str, int]]]:
        with self.lock:
            self.calls.clear()
        taken: list[tuple[str, int]] = []
        yield taken
        with self.lock:
            taken.extend(self.calls)


@dataclass(frozen=True)
class Row:
    operation: str
    status: int
    calls: list[str]
    items_read: int

    def meets(self, goal: Goal) -> bool:
        return len(self.calls) <= goal.calls and (goal.items_read is None or self.items_read <= goal.items_read)


class _Client:
    def __init__(self, url: str, counter: _Counter) -> None:
        self.url = url
        self.counter = counter
        self.rows: list[Row] = []

    def token(self, email: str, groups: list[str] | None = None) -> str:
        return str(http("POST", f"{self.url}/_dev/token", {"email": email, "groups": groups or []}).body["token"])

    def send(self, method: str, path: str, body: Any = None, token: str | None = None, **kw: Any) -> Reply:
        reply = http(method, self.url + path, body, token, **kw)
        assert reply.status < 500, (method, path, reply.status, reply.body)
        return reply

    def measure(self, operation: str, request: Callable[[], Reply]) -> Reply:
        with self.counter.measuring() as calls:
            reply = request()
        self.rows.append(Row(operation, reply.status, [c for c, _ in calls], sum(r for _, r in calls)))
        return reply


def _post(path: str, body: dict[str, str], c: _Client) -> Callable[[], Reply]:
    return lambda: c.send("POST", path, body)


def _scenario(c: _Client) -> None:
    owner = f"owner-{uuid.uuid4().hex[:8]}@bench.example"
    me = c.token(owner)
    vendor = c.token("vendor@bench.example", ["vendor-admin"])
    org = c.measure("create an org", lambda: c.send("POST", "/orgs", {"name": "Bench Security"}, me))
    org_id = org.body["org_id"]
    for i in range(MEMBERS - 1):
        c.send("POST", f"/orgs/{org_id}/members", {"email": f"m{i:03d}@bench.example", "role": "viewer"}, me)
    members = f"/orgs/{org_id}/members"
    c.measure("add a member", lambda: c.send("POST", members, {"email": "new@bench.example", "role": "viewer"}, me))
    key = {"Idempotency-Key": str(uuid.uuid4())}
    body = {"email": "keyed@bench.example", "role": "viewer"}
    c.measure("add a member (Idempotency-Key)", lambda: c.send("POST", members, body, me, headers=key))
    c.measure("retry of that request", lambda: c.send("POST", members, body, me, headers=key))
    c.measure("change a role", lambda: c.send("POST", members, {"email": "new@bench.example", "role": "admin"}, me))
    c.measure("remove a member", lambda: c.send("DELETE", f"{members}/new%40bench.example", None, me))
    c.measure("list members", lambda: c.send("GET", members, None, me))
    c.measure("list my orgs (a page of 50)", lambda: c.send("GET", "/orgs", None, me))
    for devices in range(HISTORY // 2):  # history: usage changes, one event each
        c.send("PUT", f"/orgs/{org_id}/products/camera-station-pro/usage", {"devices": devices % 7}, me)
    products = [p["product_id"] for p in c.send("GET", "/products", None, me).body["products"]]
    c.measure(
        "set usage",
        lambda: c.send("PUT", f"/orgs/{org_id}/products/{products[0]}/usage", {"devices": 4}, me),
    )
    c.measure("start a trial", lambda: c.send("POST", f"/orgs/{org_id}/trials", {"product_id": products[1]}, me))
    c.send("POST", f"/orgs/{org_id}/trials", {"product_id": products[2]}, me)
    terms = next(p for p in c.send("GET", "/products", None, me).body["products"] if p["product_id"] == products[0])
    activation = {"product_id": products[0], "accept_terms": True, "terms_version": terms["terms_version"]}
    c.measure(
        "activate (dry run)",
        lambda: c.send("POST", f"/orgs/{org_id}/activations", {**activation, "dry_run": True}, me),
    )
    c.measure("activate", lambda: c.send("POST", f"/orgs/{org_id}/activations", activation, me))
    issued = c.measure(
        "issue 10 keys",
        lambda: c.send("POST", "/admin/license-keys", {"product_id": products[0], "licenses": 5, "count": 10}, vendor),
    )
    keys = issued.body["keys"]
    redemptions = f"/orgs/{org_id}/redemptions"
    c.measure("redeem a key", lambda: c.send("POST", redemptions, {"license_key": keys[0]["license_key"]}, me))
    mistyped = keys[1]["license_key"][:-1] + ("A" if keys[1]["license_key"][-1] != "A" else "B")
    c.measure("redeem a mistyped key", lambda: c.send("POST", redemptions, {"license_key": mistyped}, me))
    revoke = f"/admin/license-keys/{keys[2]['key_id']}/revoke"
    c.measure("revoke a key", lambda: c.send("POST", revoke, None, vendor))
    systems = []
    for name in ("Gate", "Lobby"):
        code = c.send("POST", f"/orgs/{org_id}/systems/registration-codes", None, me).body["code"]
        registration = {"code": code, "name": name, "product_id": products[0]}
        systems.append(c.measure("register a system", _post("/systems/register", registration, c)))
    system = systems[-1].body
    auth = {"Authorization": f"Bearer {system['credential']}"}
    c.measure(
        "a system reports its devices",
        lambda: c.send("PUT", f"/systems/{system['system_id']}/usage", {"devices": 3}, headers=auth),
    )
    c.measure(
        "a system fetches its license", lambda: c.send("GET", f"/systems/{system['system_id']}/license", headers=auth)
    )
    c.measure("overview", lambda: c.send("GET", f"/orgs/{org_id}/overview", None, me))
    c.measure("wallet", lambda: c.send("GET", f"/orgs/{org_id}/wallet", None, me))
    c.measure("history (a page of 50)", lambda: c.send("GET", f"/orgs/{org_id}/history?limit=50", None, me))


def measure() -> list[Row]:
    from devserver.stack import DevServer  # noqa: PLC0415 - the stack is heavy: only when measuring

    os.environ.setdefault("DEV_LOG_LEVEL", "ERROR")
    os.environ["DEV_ACCESS_LOG"] = "0"  # quiet: one line per request otherwise
    server = DevServer(port=0)
    serving = threading.Thread(target=server.serve_forever, daemon=True)
    serving.start()
    counter = _Counter()
    server.aws.observers.append(counter.observe)
    client = _Client(server.url, counter)
    try:
        _scenario(client)
    finally:
        server.close()
    return client.rows


def section() -> tuple[str, bool]:
    rows = measure()
    seen: dict[str, Row] = {}
    for row in rows:  # an operation measured twice (two registrations): the costlier one
        if row.operation not in seen or len(row.calls) > len(seen[row.operation].calls):
            seen[row.operation] = row
    missing = set(GOALS) - set(seen)
    lines = []
    ok = not missing
    for operation, goal in GOALS.items():
        found = seen.get(operation)
        if found is None:
            continue
        met = found.meets(goal)
        ok = ok and met
        goal_items = "-" if goal.items_read is None else str(goal.items_read)
        calls = ", ".join(found.calls) or "none"
        lines.append(
            f"| {operation} | {found.status} | {len(found.calls)} ({calls}) | {goal.calls} | {found.items_read} "
            f"| {goal_items} | {'met' if met else 'NOT met'} |"
        )
    table = "\n".join(lines)
    text = f"""## DynamoDB calls and items read per operation

Each operation sent over HTTP to the dev server, counted by its embedded DynamoDB (`bench/reads.py`).
The org has {MEMBERS} members, 3 products, 2 systems and about {HISTORY // 2} history events, so a
read that followed the members or the history would show. Items read: what queries scanned
(`ScannedCount`) plus items returned by gets. The benchmark fails if a count rises above its goal.

| operation | status | calls | goal | items read | goal | |
| --- | ---: | --- | ---: | ---: | ---: | --- |
{table}
{"" if not missing else f"Not measured: {', '.join(sorted(missing))} (NOT met)."}
"""
    return text, ok


if __name__ == "__main__":
    report, met = section()
    print(report)
    raise SystemExit(0 if met else 1)

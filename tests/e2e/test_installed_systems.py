"""The installed-systems loop end to end: the reference client (python -m license_client) plays the
licensed software against the dev server, as a product team would embed it."""

from __future__ import annotations

import json
import random
import subprocess
import sys
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jwt

from tests.e2e.conftest import token_for
from tests.helpers import http, unique_email
from tools.template import ROOT

CAM = "camera-station-pro"


class Client:
    """The reference client's command line, with its state in its own folder."""

    def __init__(self, base_url: str, folder: Path) -> None:
        self.base_url = base_url
        self.state = folder / "license-client.json"

    def run(self, *args: str, ok: bool = True) -> Any:
        now = http("GET", f"{self.base_url}/_dev/clock").body["now"]
        epoch = datetime.fromisoformat(now.replace("Z", "+00:00")).timestamp()
        command = [sys.executable, "-m", "license_client", "--state", str(self.state), "--now", str(epoch), *args]
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)  # noqa: S603
        assert (done.returncode == 0) == ok, done.stderr or done.stdout
        return json.loads(done.stdout if ok else done.stderr)


class Admin:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.email = unique_email("admin")
        self.token = token_for(base_url, self.email)
        self.org = http("POST", f"{base_url}/orgs", {"name": "Sites"}, self.token).body["org_id"]

    def call(self, method: str, path: str, body: Any = None) -> Any:
        reply = http(method, f"{self.base_url}/orgs/{self.org}{path}", body, self.token)
        assert reply.status < 300, reply.body
        return reply.body

    def code(self) -> str:
        return str(self.call("POST", "/systems/registration-codes")["code"])

    def redeem(self, licenses: int) -> None:
        vendor = token_for(self.base_url, "vera@vendor.example", ["vendor-admin"])
        body = {"product_id": CAM, "licenses": licenses, "count": 1}
        key = http("POST", f"{self.base_url}/admin/license-keys", body, vendor).body["keys"][0]["license_key"]
        self.call("POST", "/redemptions", {"license_key": key})

    def product(self) -> dict[str, Any]:
        return dict(self.call("GET", "/overview")["products"][0])


def verify_with_pyjwt(base_url: str, token: str) -> dict[str, Any]:
    """A standard JOSE library and the published JWKS: no project code involved."""
    keys = http("GET", f"{base_url}/.well-known/jwks.json").body["keys"]
    key = jwt.PyJWK(next(k for k in keys if k["kid"] == jwt.get_unverified_header(token)["kid"]))
    options: Any = {"verify_exp": False, "verify_iat": False, "require": ["exp", "iat", "sub"]}
    return dict(jwt.decode(token, key=key.key, algorithms=["ES256"], options=options))


def test_the_whole_loop_with_the_reference_client(
    base_url: str, dev_clock: Callable[[str], None], tmp_path: Path
) -> None:
    dev_clock("2027-01-15T10:00:00Z")
    admin = Admin(base_url)
    software = Client(base_url, tmp_path)
    # Register with a code: the org's trial of the product starts
    registered = software.run("register", "--api", base_url, "--code", admin.code(), "--name", "Gate", "--product", CAM)
    assert registered["system_id"].startswith("sys_")
    assert admin.product()["status"] == "trial"
    # Report 3 devices; the org redeems a key of 5 and activates: the license says licensed 3
    assert software.run("report", "--devices", "3")["org_devices"] == 3
    admin.redeem(5)
    admin.call("POST", "/activations", {"product_id": CAM, "accept_terms": True, "terms_version": "2026-01"})
    claims = software.run("license")
    assert (claims["status"], claims["licensed"], claims["devices"]) == ("licensed", 3, 3)
    assert software.run("verify")["sub"] == registered["system_id"]
    # Report 6: the wallet covers 2 more; 1 is short, in the grace period
    dev_clock("2027-01-16T10:00:00Z")
    software.run("report", "--devices", "6")
    claims = software.run("license")
    assert (claims["status"], claims["licensed"], claims["devices"]) == ("grace", 5, 6)
    assert claims["exp"] == claims["grace_ends_at"]  # valid no later than the grace end, 14 Feb 2027
    assert datetime.fromtimestamp(claims["exp"], UTC).date().isoformat() == "2027-02-14"
    # Past the grace end: unlicensed; the old license no longer verifies as current
    dev_clock("2027-02-14T10:05:00Z")
    assert software.run("verify", ok=False)["error"].startswith("This license is not valid now")
    assert software.run("license")["status"] == "unlicensed"
    license_text = json.loads(software.state.read_text())["license"]
    assert verify_with_pyjwt(base_url, license_text)["status"] == "unlicensed"
    # Removed by an admin: the credential is refused at once
    admin.call("DELETE", f"/systems/{registered['system_id']}")
    refused = software.run("report", "--devices", "1", ok=False)
    assert refused["status"] == 401
    assert admin.product()["devices"] == 0


def test_an_offline_site_round_trip(base_url: str, tmp_path: Path) -> None:
    admin = Admin(base_url)
    site = Client(base_url, tmp_path)
    request_file = tmp_path / "system-file.json"
    site.run("export-request", "--name", "Harbour", "--product", CAM, "--devices", "4", "--out", str(request_file))
    # the admin carries the system file out, uploads it, and carries the license file back in
    license_file = tmp_path / "license-file.json"
    license_file.write_text(json.dumps(admin.call("POST", "/systems/offline", json.loads(request_file.read_text()))))
    jwks = tmp_path / "jwks.json"  # pinned at the site, once
    jwks.write_text(json.dumps(http("GET", f"{base_url}/.well-known/jwks.json").body))
    claims = site.run("import-license", str(license_file), "--jwks", str(jwks))
    assert (claims["status"], claims["system_devices"], claims["devices"]) == ("trial", 4, 4)
    assert site.run("verify")["sub"].startswith("off_")
    systems = admin.call("GET", "/systems")["systems"]
    assert [(s["kind"], s["devices"], s["name"]) for s in systems] == [("offline", 4, "Harbour")]


def test_a_system_credential_reaches_nothing_but_its_own_system(base_url: str, tmp_path: Path) -> None:
    admin = Admin(base_url)
    software = Client(base_url, tmp_path)
    software.run("register", "--api", base_url, "--code", admin.code(), "--name", "Gate", "--product", CAM)
    state = json.loads(software.state.read_text())
    credential, mine = state["credential"], state["system_id"]
    other = Client(base_url, tmp_path / "other")
    other.run("register", "--api", base_url, "--code", admin.code(), "--name", "Other", "--product", CAM)
    theirs = json.loads(other.state.read_text())["system_id"]
    org = admin.org
    every_user_route = [
        ("GET", "/orgs"),
        ("POST", "/orgs"),
        ("GET", "/products"),
        ("GET", f"/orgs/{org}/overview"),
        ("GET", f"/orgs/{org}/wallet"),
        ("GET", f"/orgs/{org}/history"),
        ("GET", f"/orgs/{org}/members"),
        ("GET", f"/orgs/{org}/systems"),
        ("POST", f"/orgs/{org}/systems/registration-codes"),
        ("DELETE", f"/orgs/{org}/systems/{theirs}"),
        ("POST", f"/orgs/{org}/redemptions"),
        ("PUT", f"/orgs/{org}/products/{CAM}/usage"),
        ("POST", "/admin/license-keys"),
    ]
    for method, path in every_user_route:
        reply = http(method, f"{base_url}{path}", {} if method in ("POST", "PUT") else None, credential)
        assert reply.status == 401, (method, path, reply.status)
    for method, path in [("PUT", f"/systems/{theirs}/usage"), ("GET", f"/systems/{theirs}/license")]:
        body = {"devices": 1} if method == "PUT" else None
        assert http(method, f"{base_url}{path}", body, credential).status == 401, path
    assert http("PUT", f"{base_url}/systems/{mine}/usage", {"devices": 1}, credential).status == 200


def report(base_url: str, state: dict[str, str], counts: list[int], errors: list[str]) -> None:
    for devices in counts:
        path = f"{base_url}/systems/{state['system_id']}/usage"
        reply = http("PUT", path, {"devices": devices}, state["credential"])
        if reply.status != 200:
            errors.append(f"report {reply.status} {reply.body}")


def test_licenses_are_conserved_while_systems_report_alongside_redemptions_and_sweeps(
    base_url: str, dev_clock: Callable[[str], None], tmp_path: Path
) -> None:
    # Given an activated product and three registered systems
    dev_clock("2027-01-15T10:00:00Z")
    admin = Admin(base_url)
    admin.redeem(4)
    admin.call("POST", "/activations", {"product_id": CAM, "accept_terms": True, "terms_version": "2026-01"})
    clients = []
    for i in range(3):
        client = Client(base_url, tmp_path / f"s{i}")
        client.run("register", "--api", base_url, "--code", admin.code(), "--name", f"Site {i}", "--product", CAM)
        clients.append(json.loads(client.state.read_text()))
    rng = random.Random(7)
    reports = [[rng.randrange(0, 8) for _ in range(6)] for _ in clients]
    errors: list[str] = []
    # When they all report while the org redeems keys, and sweeps run, across a renewal
    dev_clock("2028-01-15T10:01:00Z")
    workers = [
        threading.Thread(target=report, args=(base_url, c, r, errors)) for c, r in zip(clients, reports, strict=True)
    ]
    workers += [threading.Thread(target=admin.redeem, args=(n,)) for n in (3, 2, 5)]
    workers += [threading.Thread(target=http, args=("POST", f"{base_url}/_dev/renewal-sweep")) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert not errors, errors
    http("POST", f"{base_url}/_dev/renewal-sweep")
    # Then the devices are what the systems last reported, and history adds up to the wallet
    product = admin.product()
    assert product["devices"] == sum(r[-1] for r in reports)
    events = admin.call("GET", "/history?limit=100")["events"]
    redeemed = sum(e["licenses"] or 0 for e in events if e["action"] == "key_redeemed")
    consumed = sum(e["consumed"] or 0 for e in events)
    assert redeemed == 14 == product["wallet"] + consumed
    assert [e["action"] for e in events].count("renewed") == 1

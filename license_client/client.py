"""The reference client: an installation's state on disk, the calls to the API, and verification."""

from __future__ import annotations

import json
import os
import secrets
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jwt

ISSUER = "license-manager"
ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"


class LicenseError(Exception):
    """The service refused a call (with its problem+json), or a license does not verify."""

    def __init__(self, message: str, status: int = 0, problem: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.problem = problem or {}


def _call(method: str, url: str, body: Any = None, credential: str | None = None) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)  # noqa: S310 - the service's URL
    request.add_header("Accept", "application/json")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if credential:
        request.add_header("Authorization", f"Bearer {credential}")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            text = response.read().decode()
    except urllib.error.HTTPError as err:
        problem = json.loads(err.read() or b"{}")
        raise LicenseError(problem.get("detail") or str(err), err.code, problem) from None
    return json.loads(text) if text else None


def verify(token: str, keys: list[dict[str, Any]], system_id: str, now: float | None = None) -> dict[str, Any]:
    """The license's claims, if a key of `keys` (a JWKS's "keys") signed it, for this system, and it
    has not expired. Works offline: only the keys are needed (fetched once, or pinned)."""
    try:
        kid = jwt.get_unverified_header(token).get("kid")
        key = next((k for k in keys if k.get("kid") == kid), None)
        if key is None:
            raise LicenseError("The license was signed by a key this installation does not know.")
        claims = jwt.decode(
            token,
            key=jwt.PyJWK(key).key,
            algorithms=["ES256"],
            issuer=ISSUER,
            options={"require": ["exp", "iat", "sub", "iss"], "verify_exp": False, "verify_iat": False},
        )
    except jwt.PyJWTError as err:
        raise LicenseError(f"The license does not verify: {err}.") from None
    at = now if now is not None else time.time()
    if claims["sub"] != system_id:
        raise LicenseError("This license is for another installation.")
    if not claims["iat"] - 300 <= at < claims["exp"]:
        raise LicenseError("This license is not valid now: fetch (or import) a new one.")
    return dict(claims)


@dataclass
class Installation:
    """What the software keeps on disk (readable by it alone): its id, credential, license, keys."""

    path: Path
    api: str = ""
    system_id: str = ""
    credential: str = ""
    product_id: str = ""
    name: str = ""
    license: str = ""
    keys: list[dict[str, Any]] = field(default_factory=list)
    now: float | None = None  # verify as of this instant (a test server's clock); None: this machine's

    @classmethod
    def load(cls, path: Path) -> Installation:
        if not path.exists():
            return cls(path)
        data = json.loads(path.read_text())
        return cls(path, **data)

    def save(self) -> None:
        data = {k: v for k, v in asdict(self).items() if k not in ("path", "now")}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # the credential is a secret
        with os.fdopen(fd, "w") as out:
            json.dump(data, out, indent=2)

    # -- online ---------------------------------------------------------------------------------

    def register(self, api: str, code: str, name: str, product_id: str) -> None:
        answer = _call("POST", f"{api}/systems/register", {"code": code, "name": name, "product_id": product_id})
        self.api, self.name, self.product_id = api, name, product_id
        self.system_id, self.credential = answer["system_id"], answer["credential"]
        self.fetch_keys()
        self.save()

    def report(self, devices: int) -> dict[str, Any]:
        answer: dict[str, Any] = _call(
            "PUT", f"{self.api}/systems/{self.system_id}/usage", {"devices": devices}, self.credential
        )
        return answer

    def fetch_license(self) -> dict[str, Any]:
        answer = _call("GET", f"{self.api}/systems/{self.system_id}/license", None, self.credential)
        claims = self.check(answer["license"])
        self.license = answer["license"]
        self.save()
        return claims

    def fetch_keys(self) -> None:
        self.keys = _call("GET", f"{self.api}/.well-known/jwks.json")["keys"]
        self.save()

    def rotate(self) -> None:
        self.credential = _call("POST", f"{self.api}/systems/{self.system_id}/credential", None, self.credential)[
            "credential"
        ]
        self.save()

    # -- offline --------------------------------------------------------------------------------

    def export_request(self, name: str, product_id: str, devices: int) -> dict[str, Any]:
        """The system file an admin uploads for this installation (its id is its own making)."""
        if not self.system_id:
            self.system_id = "off_" + "".join(secrets.choice(ALPHABET) for _ in range(26))
        self.name, self.product_id = name, product_id
        self.save()
        return {
            "system_id": self.system_id,
            "name": name,
            "product_id": product_id,
            "devices": devices,
            "created_at": datetime.now(UTC).isoformat(),
            "nonce": secrets.token_urlsafe(12),
        }

    def import_license(self, token: str, keys: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        """A license file an admin carried back; the keys are pinned (given once) or known already."""
        if keys is not None:
            self.keys = keys
        claims = self.check(token)
        self.license = token
        self.save()
        return claims

    def check(self, token: str | None = None) -> dict[str, Any]:
        """The license's claims, verified with the keys this installation holds."""
        return verify(token or self.license, self.keys, self.system_id, self.now)

"""Installed systems: the licensed software, registered with its organization, reporting its devices.

- A registration code (`REG-XXXXX-XXXXX-XXXXX-XXXXX`, 100 random bits) is made by an admin, used
  once within 24 h by the software to register; it is stored only as a hash.
- A registered system gets an id that names its org (`sys_<org>_<random>`) and a credential
  (256 random bits, stored only as a hash) it sends as `Authorization: Bearer`. Rotating replaces
  the hash; removing the system makes it refused at once.
- A system at a site with no internet writes a system file; an admin uploads it and carries back
  the license file. Such a system has an id of its own making (`off_...`) and no credential.
- The org's devices for a product are the devices an admin declares plus what its active systems
  report (domain/licensing.py, `report_usage`).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from license_manager.domain.errors import Conflict, Gone, InvalidInput, NotFound, Throttled, Unauthenticated

ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford base32, lower case
CODE_TTL = timedelta(hours=24)
STALE_AFTER = timedelta(days=7)
LICENSE_EVERY = timedelta(seconds=10)  # a system fetches its license at most this often
MAX_NAME = 100

_SYSTEM_ID = re.compile(r"^sys_([0-9a-z]{20})_[0-9a-z]{12}$")
_OFFLINE_ID = re.compile(r"^off_[0-9a-z]{16,40}$")
_CODE = re.compile(r"^REG([0-9A-HJKMNP-TV-Z]{20})$")


class Kind(StrEnum):
    ONLINE = "online"  # registered with a code, reports itself
    OFFLINE = "offline"  # known from system files an admin uploads


class SystemStatus(StrEnum):
    ACTIVE = "active"
    REMOVED = "removed"


@dataclass(frozen=True, slots=True)
class System:
    system_id: str
    org_id: str
    product_id: str
    name: str
    kind: Kind
    devices: int
    created_at: datetime
    created_by: str
    last_seen_at: datetime
    status: SystemStatus = SystemStatus.ACTIVE
    credential_hash: str | None = None  # online systems only
    credential_version: int = 0
    last_license_at: datetime | None = None
    file_created_at: datetime | None = None  # offline systems: the newest system file uploaded
    file_nonce: str | None = None

    @property
    def active(self) -> bool:
        return self.status is SystemStatus.ACTIVE

    def stale(self, now: datetime) -> bool:
        """Not seen for STALE_AFTER: worth a look (switched off, or cut off from the service)."""
        return self.active and now - self.last_seen_at >= STALE_AFTER


@dataclass(frozen=True, slots=True)
class SystemFile:
    """What an installed system at a site with no internet writes for its admin to upload."""

    system_id: str  # off_...: of the software's own making
    name: str
    product_id: str
    devices: int
    created_at: datetime
    nonce: str


@dataclass(frozen=True, slots=True)
class RegistrationCode:
    code_hash: str
    org_id: str
    created_by: str
    created_at: datetime
    expires_at: datetime
    used_by: str | None = None  # the system it registered


def org_of(system_id: str) -> str | None:
    """The org an online system id names (None: not an online system id)."""
    match = _SYSTEM_ID.match(system_id)
    return f"org_{match.group(1)}" if match else None


def system_id_for(org_id: str, random_symbols: str) -> str:
    return f"sys_{org_id.removeprefix('org_')}_{random_symbols}"


def possible_offline_id(system_id: str) -> bool:
    return _OFFLINE_ID.match(system_id) is not None


def display_code(symbols: str) -> str:
    return "REG-" + "-".join(symbols[i : i + 5] for i in range(0, 20, 5))


def code_symbols(typed: str) -> str:
    """The 20 symbols of a typed registration code (case, spaces and dashes do not matter)."""
    text = re.sub(r"[\s-]+", "", typed).upper().translate(str.maketrans("ILO", "110"))
    match = _CODE.match(text)
    if match is None:
        raise InvalidInput("A registration code looks like REG-XXXXX-XXXXX-XXXXX-XXXXX.", field="code")
    return match.group(1)


def secret_hash(secret: str) -> str:
    """Codes and credentials carry 100 or more random bits: a plain SHA-256 cannot be reversed."""
    return hashlib.sha256(secret.encode()).hexdigest()


def credential_matches(system: System | None, credential: str) -> bool:
    return (
        system is not None
        and system.active
        and system.credential_hash is not None
        and hmac.compare_digest(system.credential_hash, secret_hash(credential))
    )


def not_signed_in() -> Unauthenticated:
    """The one answer to an unknown system, a wrong or old credential, or a removed system."""
    return Unauthenticated("This system's credential is not valid: register the system again.")


def usable_code(code: RegistrationCode | None, now: datetime) -> RegistrationCode:
    """The code, if it can register a system now; else its refusal is raised: unknown 401, used
    or expired 410."""
    if code is None:
        raise Unauthenticated("This registration code is not valid. Ask an admin of your organization for a new one.")
    if code.used_by is not None:
        raise Gone("This registration code was already used. Ask an admin for a new one.", code="code_used")
    if now >= code.expires_at:
        raise Gone("This registration code has expired. Ask an admin for a new one.", code="code_expired")
    return code


def code_refusal(code: RegistrationCode | None, now: datetime) -> Exception:
    """Why the code can no longer register a system (found at the write: used meanwhile)."""
    try:
        usable_code(code, now)
    except (Unauthenticated, Gone) as refusal:
        return refusal
    return Gone("This registration code can no longer be used. Ask an admin for a new one.", code="code_used")


def name_taken(name: str) -> Conflict:
    return Conflict(f"A system named {name} is registered already.", code="system_exists")


def system_not_found() -> NotFound:
    return NotFound("No system of this organization has this id.")


def license_too_soon(system: System, now: datetime) -> Throttled | None:
    if system.last_license_at is None or now - system.last_license_at >= LICENSE_EVERY:
        return None
    wait = max(1, int((system.last_license_at + LICENSE_EVERY - now).total_seconds()) + 1)
    return Throttled(f"This system fetched its license moments ago; again in {wait} seconds.", retry_after=wait)


def stale_file(system: System, created_at: datetime) -> Conflict | None:
    if system.file_created_at is not None and created_at < system.file_created_at:
        return Conflict("A newer system file of this system was uploaded already.", code="stale_system_file")
    return None

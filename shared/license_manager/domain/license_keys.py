"""License key format: 25 Crockford base32 symbols in five groups of five.

24 random symbols (120 bits from a CSPRNG, drawn by the caller) and a check symbol. The check is
computed in GF(32) (the field with 32 elements, polynomial x^5 + x^2 + 1, generator a = x):

    a^1*s0 + a^2*s1 + ... + a^24*s23 + a^0*c = 0

- A single mistyped symbol at position i changes the sum by w_i * (old XOR new), which is never 0
  because w_i != 0 and old != new: every single typo is caught.
- Swapping adjacent symbols x != y at i, i+1 changes it by (w_i XOR w_i+1) * (x XOR y), never 0
  because the 25 weights a^0..a^24 are distinct: every adjacent swap is caught, the check symbol
  included. (A weighted sum mod 32 cannot do both: single typos need odd weights, whose pairwise
  differences are even.)

Input is case-insensitive, ignores spaces and dashes, and reads the usual Crockford aliases
(I and L as 1, O as 0). Keys are stored only as a hash; logs and history show the last 5 symbols.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from license_manager.domain.errors import Conflict, DomainError, Gone, InvalidInput, NotFound
from license_manager.domain.timefmt import to_iso

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_VALUE = {symbol: value for value, symbol in enumerate(ALPHABET)}
_ALIASES = str.maketrans({"I": "1", "L": "1", "O": "0"})
_IGNORED = re.compile(r"[\s\-]+")
PAYLOAD_SYMBOLS = 24
KEY_SYMBOLS = PAYLOAD_SYMBOLS + 1

# GF(32) log/antilog tables for x^5 + x^2 + 1 (0b100101)
_EXP: list[int] = []
_LOG = [0] * 32
_x = 1
for _power in range(31):
    _EXP.append(_x)
    _LOG[_x] = _power
    _x <<= 1
    if _x & 0b100000:
        _x ^= 0b100101
_WEIGHTS = [_EXP[(i + 1) % 31] for i in range(PAYLOAD_SYMBOLS)]  # a^1 .. a^24; the check has a^0 = 1


def _gf_mul(a: int, b: int) -> int:
    if a == 0 or b == 0:
        return 0
    return _EXP[(_LOG[a] + _LOG[b]) % 31]


def check_symbol(payload: str) -> str:
    """The symbol that completes 24 payload symbols into a valid key."""
    if len(payload) != PAYLOAD_SYMBOLS:
        raise ValueError("payload must be 24 symbols")
    total = 0
    for weight, symbol in zip(_WEIGHTS, payload, strict=True):
        total ^= _gf_mul(weight, _VALUE[symbol])
    return ALPHABET[total]  # in characteristic 2, -total == total


def is_valid(symbols: str) -> bool:
    return (
        len(symbols) == KEY_SYMBOLS
        and all(s in _VALUE for s in symbols)
        and check_symbol(symbols[:PAYLOAD_SYMBOLS]) == symbols[-1]
    )


def from_random(values: list[int]) -> str:
    """A key from 24 random values in 0..31 (the caller draws them from a CSPRNG)."""
    if len(values) != PAYLOAD_SYMBOLS or any(not 0 <= v < 32 for v in values):
        raise ValueError("need 24 values in 0..31")
    payload = "".join(ALPHABET[v] for v in values)
    return payload + check_symbol(payload)


def display(symbols: str) -> str:
    """`7K3QF-9ZP2M-...`: five groups of five."""
    return "-".join(symbols[i : i + 5] for i in range(0, KEY_SYMBOLS, 5))


EXAMPLE_KEY = display("7K3QF9ZP2M4R8TAXW6DNB1CV" + check_symbol("7K3QF9ZP2M4R8TAXW6DNB1CV"))


def normalize(text: str) -> str:
    """Canonical symbols of a typed key, or 422 "this key looks mistyped" (no database involved)."""
    symbols = _IGNORED.sub("", text).upper().translate(_ALIASES)
    if not is_valid(symbols):
        raise InvalidInput(
            "This key looks mistyped: check it against your purchase (25 symbols, e.g. 7K3QF-9ZP2M-...).",
            field="license_key",
            code="mistyped_key",
        )
    return symbols


_KEY_ID = re.compile(r"^key_[0-9a-f]{32}$")


def possible_key_id(value: str) -> bool:
    """Ids `key_id` could have made; anything else is answered 404 without a database call."""
    return _KEY_ID.match(value) is not None


def key_id(symbols: str) -> str:
    """The key's stored identity: a hash, so the table never holds a key in clear. 120 random bits
    make a pepper unnecessary: there is nothing to brute-force."""
    return "key_" + hashlib.sha256(symbols.encode()).hexdigest()[:32]


def last5(symbols: str) -> str:
    return symbols[-5:]


class KeyStatus(StrEnum):
    ISSUED = "issued"
    REDEEMED = "redeemed"
    REVOKED = "revoked"


@dataclass(frozen=True, slots=True)
class LicenseKey:
    """A key as stored: never the key itself, only its hash (`key_id`) and last 5 symbols."""

    key_id: str
    product_id: str
    licenses: int
    last5: str
    batch_id: str
    issued_at: datetime
    issued_by: str
    status: KeyStatus = KeyStatus.ISSUED
    redeemed_org_id: str | None = None
    redeemed_by: str | None = None
    redeemed_at: datetime | None = None
    revoked_at: datetime | None = None
    revoked_by: str | None = None


def redeemable(key: LicenseKey | None, org_id: str) -> LicenseKey:
    """The key, if `org_id` can redeem it; else the refusal is raised. Another org is never named,
    nor when it redeemed the key."""
    if key is None:
        raise NotFound("No license key matches this one. Check it against your purchase.", code="unknown_key")
    if key.status is KeyStatus.REVOKED:
        raise Gone("This license key was revoked by the vendor. Contact your reseller.", code="revoked_key")
    if key.status is KeyStatus.REDEEMED:
        if key.redeemed_org_id == org_id and key.redeemed_at is not None:
            raise Conflict(
                f"Your organization already redeemed this key on {to_iso(key.redeemed_at)}.",
                code="already_redeemed",
                redeemed_at=to_iso(key.redeemed_at),
            )
        raise Conflict("This license key has already been redeemed.", code="already_redeemed")
    return key


def refusal(key: LicenseKey | None, org_id: str) -> DomainError:
    """Why `org_id` cannot redeem the key as it is now (for a key found changed at the write)."""
    try:
        redeemable(key, org_id)
    except DomainError as problem:
        return problem
    return Conflict("This license key changed while it was being redeemed; try again.")


def unknown_key_id() -> NotFound:
    return NotFound("No license key has this id.", code="unknown_key")


def redeemed_cannot_be_revoked() -> Conflict:
    return Conflict("This key has been redeemed; a redeemed key cannot be revoked.", code="already_redeemed")


MAX_LICENSES_PER_KEY = 10_000
MAX_KEYS_PER_BATCH = 50

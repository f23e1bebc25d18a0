"""Vendor staff issue license keys in batches and revoke unredeemed ones."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, replace

from license_manager import clock, ids
from license_manager.domain.errors import Conflict, Forbidden, InvalidInput, NotFound, Unavailable, raises
from license_manager.domain.identity import Caller
from license_manager.domain.license_keys import (
    PAYLOAD_SYMBOLS,
    KeyStatus,
    LicenseKey,
    display,
    from_random,
    key_id,
    last5,
    possible_key_id,
    redeemed_cannot_be_revoked,
    unknown_key_id,
)
from license_manager.domain.vendor import VendorAction, VendorEvent
from license_manager.observability import logger
from license_manager.services.licensing import product_in_body
from license_manager.services.unit_of_work import JsonCodec, Remember, RequestKey, once
from license_manager.store import license_keys as store


def require_vendor(caller: Caller) -> None:
    if not caller.is_vendor_admin:
        raise Forbidden("Only vendor staff (group vendor-admin) manage license keys.")


@dataclass(frozen=True)
class IssuedKey:
    key_id: str
    license_key: str
    last5: str


@dataclass(frozen=True)
class Batch:
    batch_id: str
    product_id: str
    licenses: int
    keys: list[IssuedKey]


class BatchCodec:
    """A batch is remembered without its keys in clear: they are the secret part, which is kept
    encrypted (KMS) and only decrypted to answer a retry of the same request."""

    def dump(self, result: Batch) -> tuple[str, bytes | None]:
        bare = replace(result, keys=[replace(k, license_key="") for k in result.keys])
        return JsonCodec(Batch).dump(bare)[0], json.dumps([k.license_key for k in result.keys]).encode()

    def load(self, payload: str, secret: bytes | None) -> Batch:
        bare = JsonCodec(Batch).load(payload, None)
        plain = json.loads(secret or b"[]")
        return replace(bare, keys=[replace(k, license_key=p) for k, p in zip(bare.keys, plain, strict=True)])


def new_key() -> str:
    """24 symbols from the OS CSPRNG (120 bits) and the check symbol."""
    return from_random([secrets.randbelow(32) for _ in range(PAYLOAD_SYMBOLS)])


@raises(Forbidden, InvalidInput, Unavailable)
def issue(caller: Caller, product_id: str, licenses: int, count: int, key: RequestKey | None = None) -> Batch:
    """One transaction: every key of the batch exists, or none does. Plaintext is returned once,
    and again only to a retry of the same request (Idempotency-Key), from its encrypted answer."""
    require_vendor(caller)
    product = product_in_body(product_id)
    return once(key, BatchCodec(), lambda remember: _issue(caller, product.product_id, licenses, count, remember))


def _issue(caller: Caller, product_id: str, licenses: int, count: int, remember: Remember[Batch]) -> Batch:
    now = clock.now()
    batch_id = "batch_" + ids.new_event_id(now)
    plain = [new_key() for _ in range(count)]
    records = [
        LicenseKey(
            key_id=key_id(k),
            product_id=product_id,
            licenses=licenses,
            last5=last5(k),
            batch_id=batch_id,
            issued_at=now,
            issued_by=caller.email,
        )
        for k in plain
    ]
    event = VendorEvent(
        event_id=ids.new_event_id(now),
        at=now,
        actor=caller.email,
        action=VendorAction.KEYS_ISSUED,
        product_id=product_id,
        batch_id=batch_id,
        count=count,
        licenses=licenses,
    )
    batch = Batch(
        batch_id=batch_id,
        product_id=product_id,
        licenses=licenses,
        keys=[IssuedKey(r.key_id, display(k), r.last5) for r, k in zip(records, plain, strict=True)],
    )
    store.put_batch(records, event, also=remember(batch))
    logger.info(
        "keys issued", extra={"batch_id": batch_id, "product_id": product_id, "count": count, "licenses": licenses}
    )
    return batch


class _AlreadyRevoked(Exception):
    """Another revocation got there first (the vendor's intent is met either way)."""

    def __init__(self, key: LicenseKey) -> None:
        super().__init__(key.key_id)
        self.key = key


def _revoke_refused(now_key: LicenseKey | None) -> Exception:
    if now_key is None:
        return unknown_key_id()
    if now_key.status is KeyStatus.REVOKED:
        return _AlreadyRevoked(now_key)
    return redeemed_cannot_be_revoked()


@raises(Forbidden, NotFound, Conflict, InvalidInput, Unavailable)
def revoke(caller: Caller, kid: str, key: RequestKey | None = None) -> LicenseKey:
    """Revoke an unredeemed key. Revoking a revoked key again changes nothing and answers the same."""
    require_vendor(caller)
    return once(key, JsonCodec(LicenseKey), lambda remember: _revoke(caller, kid, remember))


def _revoke(caller: Caller, kid: str, remember: Remember[LicenseKey]) -> LicenseKey:
    key = store.get_key(kid) if possible_key_id(kid) else None
    if key is None:
        raise unknown_key_id()
    if key.status is KeyStatus.REVOKED:
        return key
    if key.status is KeyStatus.REDEEMED:
        raise redeemed_cannot_be_revoked()
    now = clock.now()
    event = VendorEvent(
        event_id=ids.new_event_id(now),
        at=now,
        actor=caller.email,
        action=VendorAction.KEY_REVOKED,
        product_id=key.product_id,
        key_id=key.key_id,
        key_last5=key.last5,
    )
    revoked = replace(key, status=KeyStatus.REVOKED, revoked_at=now, revoked_by=caller.email)
    try:
        return store.revoke(key, now, caller.email, event, on_refused=_revoke_refused, also=remember(revoked))
    except _AlreadyRevoked as earlier:
        return earlier.key

"""Vendor staff issue license keys in batches and revoke unredeemed ones."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from license_manager import clock, ids
from license_manager.domain.errors import Conflict, Forbidden, NotFound
from license_manager.domain.identity import Caller
from license_manager.domain.license_keys import (
    PAYLOAD_SYMBOLS,
    KeyStatus,
    LicenseKey,
    display,
    from_random,
    key_id,
    last5,
)
from license_manager.domain.vendor import VendorAction, VendorEvent
from license_manager.observability import logger
from license_manager.services.catalog import get_product
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


def new_key() -> str:
    """24 symbols from the OS CSPRNG (120 bits) and the check symbol."""
    return from_random([secrets.randbelow(32) for _ in range(PAYLOAD_SYMBOLS)])


def issue(caller: Caller, product_id: str, licenses: int, count: int) -> Batch:
    """One transaction: every key of the batch exists, or none does. Plaintext is returned once."""
    require_vendor(caller)
    product = get_product(product_id)
    now = clock.now()
    batch_id = "batch_" + ids.new_event_id(now)
    plain = [new_key() for _ in range(count)]
    records = [
        LicenseKey(
            key_id=key_id(k),
            product_id=product.product_id,
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
        product_id=product.product_id,
        batch_id=batch_id,
        count=count,
        licenses=licenses,
    )
    store.put_batch(records, event)
    logger.info(
        "keys issued", extra={"batch_id": batch_id, "product_id": product_id, "count": count, "licenses": licenses}
    )
    return Batch(
        batch_id=batch_id,
        product_id=product.product_id,
        licenses=licenses,
        keys=[IssuedKey(r.key_id, display(k), r.last5) for r, k in zip(records, plain, strict=True)],
    )


def revoke(caller: Caller, kid: str) -> LicenseKey:
    """Revoke an unredeemed key. Revoking a revoked key again changes nothing."""
    require_vendor(caller)
    key = store.get_key(kid) if kid.startswith("key_") and len(kid) <= 40 else None
    if key is None:
        raise NotFound("No license key has this id.")
    if key.status is KeyStatus.REVOKED:
        return key
    if key.status is KeyStatus.REDEEMED:
        raise Conflict("This key has been redeemed; a redeemed key cannot be revoked.", code="already_redeemed")
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
    return store.revoke(key, now, caller.email, event)

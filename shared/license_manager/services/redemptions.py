"""Redeeming a license key: the moment money turns into licenses. Exactly once, atomic, explained."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from license_manager import clock
from license_manager.domain import licensing, throttle
from license_manager.domain.errors import DomainError, NotFound
from license_manager.domain.identity import Caller, Role, require_role
from license_manager.domain.license_keys import key_id, last5, normalize, refuse_redemption
from license_manager.domain.licensing import Status, status_at
from license_manager.observability import logger
from license_manager.services.licensing import WRITE_ROLES, events_of, outbox_of, retry_on_stale
from license_manager.services.orgs import valid_org_id
from license_manager.store import license_keys as store
from license_manager.store import licensing as licensing_store


@dataclass(frozen=True)
class Redemption:
    product_id: str
    licenses: int
    consumed: int
    added_to_wallet: int
    status: Status | None


def redeem(caller: Caller, org_id: str, typed_key: str) -> Redemption:
    """Rule 3. A mistyped key is refused before any database call. Then at most three calls:
    read membership + key + failure window; read the product state; one transaction."""
    symbols = normalize(typed_key)  # 422 "looks mistyped", no database involved
    kid = key_id(symbols)
    if not valid_org_id(org_id):
        raise NotFound("Organization not found.")
    read = store.read_for_redemption(org_id, caller.email, kid)
    if read.member is None:
        raise NotFound("Organization not found.")
    require_role(read.member.role, Role.ADMIN)
    now = clock.now()
    throttle.check(read.failures, now)
    try:
        refuse_redemption(read.key, org_id)
    except DomainError as refusal:
        _count_failure(org_id, read, refusal, now)
        raise
    key, member = read.key, read.member
    assert key is not None  # refuse_redemption raised otherwise

    def attempt() -> Redemption:
        before = licensing_store.get_state(org_id, key.product_id) or licensing.empty(org_id, key.product_id)
        now = clock.now()
        change = licensing.redeem(before, key.licenses, last5(symbols), now)
        store.redeem(
            member,
            key,
            redeemed_at=now,
            before_version=before.version,
            after=change.after,
            events=events_of(change, caller.email, now),
            roles=WRITE_ROLES,
            outbox=outbox_of(change, now),
        )
        redeemed = change.events[-1]
        return Redemption(
            product_id=key.product_id,
            licenses=key.licenses,
            consumed=redeemed.consumed or 0,
            added_to_wallet=redeemed.to_wallet or 0,
            status=status_at(change.after, now),
        )

    result = retry_on_stale(attempt, busy="Too many redemptions into this product at once; retry in a moment.")
    logger.info("key redeemed", extra={"org_id": org_id, "key_last5": key.last5, "licenses": key.licenses})
    return result


def _count_failure(org_id: str, read: store.RedemptionRead, refusal: DomainError, now: datetime) -> None:
    """Unknown, revoked, or someone else's key: one more failure in the org's window.
    Re-redeeming one's own key (a double click) is not a guess and does not count."""
    own = read.key is not None and read.key.redeemed_org_id == org_id
    if own:
        return
    logger.info("redemption refused", extra={"org_id": org_id, "reason": refusal.extra.get("code")})
    store.record_failure(org_id, read.failures, throttle.after_failure(read.failures, now))

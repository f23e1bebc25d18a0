"""Redeeming a license key: the moment money turns into licenses. Exactly once, atomic, explained
(docs/rules.md, rule 3)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from license_manager import clock
from license_manager.domain import licensing, throttle
from license_manager.domain.errors import (
    Conflict,
    DomainError,
    Forbidden,
    Gone,
    InvalidInput,
    NotFound,
    Throttled,
    Unavailable,
    raises,
)
from license_manager.domain.identity import Caller, Role
from license_manager.domain.license_keys import LicenseKey, key_id, last5, normalize, redeemable, refusal
from license_manager.domain.licensing import Status, status_at
from license_manager.observability import logger
from license_manager.services import signals
from license_manager.services.unit_of_work import (
    Access,
    JsonCodec,
    Remember,
    RequestKey,
    authorize,
    commit,
    once,
    retry_on_stale,
    settle_backlog,
)
from license_manager.store import license_keys as store
from license_manager.store import licensing as licensing_store


@dataclass(frozen=True)
class Redemption:
    product_id: str
    licenses: int
    consumed: int
    added_to_wallet: int
    status: Status | None


@raises(InvalidInput, NotFound, Forbidden, Conflict, Gone, Throttled, Unavailable)
def redeem(caller: Caller, org_id: str, typed_key: str, key: RequestKey | None = None) -> Redemption:
    """Rule 3. A mistyped key is refused before any database call. Then at most three calls:
    read membership + key + failure window; read the product state; one transaction."""
    try:
        symbols = normalize(typed_key)  # 422 "looks mistyped", no database involved
        access = authorize(caller, org_id, Role.ADMIN)
        return once(key, JsonCodec(Redemption), lambda remember: _redeem(access, symbols, remember))
    except Throttled:
        signals.redemption_refused("throttled")
        raise
    except (InvalidInput, NotFound, Gone, Conflict) as refused:
        signals.redemption_refused(str(refused.extra.get("code") or type(refused).__name__.lower()))
        raise


def _redeem(access: Access, symbols: str, remember: Remember[Redemption]) -> Redemption:
    caller, org_id = access.caller, access.org_id
    read = store.read_for_redemption(org_id, caller.email, key_id(symbols))
    grant = access.admit(read.member)
    now = clock.now()
    throttle.check(read.failures, now)
    try:
        license_key = redeemable(read.key, org_id)
    except DomainError as problem:
        raise _counted(org_id, read.key, problem, now) from None

    def attempt() -> Redemption:
        state = licensing_store.get_state(org_id, license_key.product_id)
        now = clock.now()
        before = settle_backlog(grant, state or licensing.empty(org_id, license_key.product_id), now)
        change = licensing.redeem(before, license_key.licenses, last5(symbols), now)
        redeemed = change.events[-1]
        result = Redemption(
            product_id=license_key.product_id,
            licenses=license_key.licenses,
            consumed=redeemed.consumed or 0,
            added_to_wallet=redeemed.to_wallet or 0,
            status=status_at(change.after, now),
        )
        commit(
            grant,
            change,
            caller.email,
            now,
            also=[
                store.redeem_action(license_key, org_id, caller.email, now, lambda now_key: refusal(now_key, org_id)),
                store.window_not_full(
                    org_id, throttle.open_since(now), throttle.MAX_FAILURES, lambda w: throttle.refusal(w, now)
                ),
                *remember(result),
            ],
        )
        return result

    result = retry_on_stale(attempt, busy="Too many redemptions into this product at once; retry in a moment.")
    logger.info(
        "key redeemed", extra={"org_id": org_id, "key_last5": license_key.last5, "licenses": license_key.licenses}
    )
    return result


def _counted(org_id: str, key: LicenseKey | None, problem: DomainError, now: datetime) -> DomainError:
    """The error for a refused key. Unknown, revoked, or someone else's key is answered only once
    counted as one more failure in the org's window, and only if the window is not full (else
    429). Re-redeeming one's own key (a double click) is not a guess and does not count."""
    if key is not None and key.redeemed_org_id == org_id:
        return problem
    logger.info("redemption refused", extra={"org_id": org_id, "reason": problem.extra.get("code")})
    full = store.count_failure(org_id, now, throttle.open_since(now), throttle.MAX_FAILURES)
    return throttle.refusal(full, now) if full is not None else problem

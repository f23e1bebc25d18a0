"""License keys, the vendor's own log, and the failed-redemption window.

KEY#<key_id>          KEY                 a license key (hash id, product, licenses, status, last5)
VENDOR                EV#<event_id>       the vendor's log: keys_issued, key_revoked
ORG#<org_id>          THROTTLE#redeem     failed redemptions in the current window
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from license_manager.domain.license_keys import KeyStatus, LicenseKey
from license_manager.domain.orgs import Member
from license_manager.domain.throttle import FailureWindow
from license_manager.domain.timefmt import parse_iso, to_iso
from license_manager.domain.vendor import VendorEvent
from license_manager.store import dynamo, keys
from license_manager.store.dynamo import Item
from license_manager.store.orgs import member_from_item

_KEY_TIMES = ("issued_at", "redeemed_at", "revoked_at")


def key_item(key: LicenseKey) -> Item:
    item: Item = {
        **keys.license_key(key.key_id),
        "type": "license_key",
        "key_id": key.key_id,
        "product_id": key.product_id,
        "licenses": key.licenses,
        "last5": key.last5,
        "batch_id": key.batch_id,
        "issued_by": key.issued_by,
        "status": key.status.value,
        "redeemed_org_id": key.redeemed_org_id,
        "redeemed_by": key.redeemed_by,
        "revoked_by": key.revoked_by,
    }
    for name in _KEY_TIMES:
        value = getattr(key, name)
        item[name] = to_iso(value) if value is not None else None
    return {k: v for k, v in item.items() if v is not None}


def key_from_item(item: Item) -> LicenseKey:
    times = {name: parse_iso(item[name]) for name in _KEY_TIMES if name in item}
    return LicenseKey(
        key_id=item["key_id"],
        product_id=item["product_id"],
        licenses=int(item["licenses"]),
        last5=item["last5"],
        batch_id=item["batch_id"],
        issued_by=item["issued_by"],
        status=KeyStatus(item["status"]),
        redeemed_org_id=item.get("redeemed_org_id"),
        redeemed_by=item.get("redeemed_by"),
        revoked_by=item.get("revoked_by"),
        issued_at=times["issued_at"],
        redeemed_at=times.get("redeemed_at"),
        revoked_at=times.get("revoked_at"),
    )


def vendor_event_put(event: VendorEvent) -> dynamo.TxAction:
    data = event.model_dump(mode="json", exclude_none=True)
    return dynamo.put(
        {**keys.vendor_event_key(event.event_id), "type": "vendor_event", **data}, condition="attribute_not_exists(PK)"
    )


# -- issuing and revoking --------------------------------------------------------------------------


def put_batch(batch: Sequence[LicenseKey], event: VendorEvent, also: Sequence[dynamo.TxAction] = ()) -> None:
    """All keys of a batch and its log line, or none (a transaction holds at most 100 items)."""
    dynamo.transact(
        [
            *(dynamo.put(key_item(k), condition="attribute_not_exists(PK)") for k in batch),
            vendor_event_put(event),
            *also,
        ]
    )


def get_key(key_id: str) -> LicenseKey | None:
    item = dynamo.get(keys.license_key(key_id))
    return key_from_item(item) if item else None


def revoke(
    key: LicenseKey,
    at: datetime,
    by: str,
    event: VendorEvent,
    *,
    on_refused: Callable[[LicenseKey | None], Exception],
    also: Sequence[dynamo.TxAction] = (),
) -> LicenseKey:
    """The key, revoked now, only if it is still issued; `on_refused` gets the key as it is now."""
    dynamo.transact(
        [
            dynamo.update(
                keys.license_key(key.key_id),
                "SET #status = :revoked, revoked_at = :at, revoked_by = :by",
                condition="#status = :issued",
                names={"#status": "status"},
                values={
                    ":revoked": KeyStatus.REVOKED.value,
                    ":issued": KeyStatus.ISSUED.value,
                    ":at": to_iso(at),
                    ":by": by,
                },
                on_fail=lambda old: on_refused(key_from_item(old) if old else None),
            ),
            vendor_event_put(event),
            *also,
        ]
    )
    return replace(key, status=KeyStatus.REVOKED, revoked_at=at, revoked_by=by)


# -- redeeming -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RedemptionRead:
    member: Member | None
    key: LicenseKey | None
    failures: FailureWindow | None


def _window(item: Item | None) -> FailureWindow | None:
    return FailureWindow(parse_iso(item["window_start"]), int(item["failures"])) if item else None


def read_for_redemption(org_id: str, email: str, key_id: str) -> RedemptionRead:
    """Call 1 of at most 3: membership, key and the org's failure window, in one consistent read."""
    member_key = keys.member_key(org_id, email)
    items = dynamo.get_many([member_key, keys.license_key(key_id), keys.throttle_key(org_id)])
    by_sk = {i["SK"]: i for i in items}
    member = by_sk.get(member_key["SK"])
    key = by_sk.get(keys.KEY_SK)
    return RedemptionRead(
        member=member_from_item(member) if member else None,
        key=key_from_item(key) if key else None,
        failures=_window(by_sk.get(keys.THROTTLE_SK)),
    )


def redeem_action(
    key: LicenseKey, org_id: str, by: str, at: datetime, on_refused: Callable[[LicenseKey | None], Exception]
) -> dynamo.TxAction:
    """For the redemption's transaction: the key becomes redeemed, only if it is still issued
    (exactly once). `on_refused` gets the key as it is now and returns the error to raise."""
    return dynamo.update(
        keys.license_key(key.key_id),
        "SET #status = :redeemed, redeemed_org_id = :org, redeemed_by = :by, redeemed_at = :at",
        condition="#status = :issued",
        names={"#status": "status"},
        values={
            ":redeemed": KeyStatus.REDEEMED.value,
            ":issued": KeyStatus.ISSUED.value,
            ":org": org_id,
            ":by": by,
            ":at": to_iso(at),
        },
        on_fail=lambda old: on_refused(key_from_item(old) if old else None),
    )


def window_not_full(
    org_id: str, open_since: datetime, limit: int, on_full: Callable[[FailureWindow | None], Exception]
) -> dynamo.TxAction:
    """For the redemption's transaction: the org's failure window is not full."""
    return dynamo.condition_check(
        keys.throttle_key(org_id),
        "attribute_not_exists(PK) OR window_start <= :since OR failures < :limit",
        values={":since": to_iso(open_since), ":limit": limit},
        on_fail=lambda old: on_full(_window(old)),
    )


class _Full(Exception):
    def __init__(self, window: FailureWindow | None) -> None:
        super().__init__("full")
        self.window = window


class _Closed(Exception):
    """The window has ended (or there is none): a new one starts."""


def count_failure(org_id: str, now: datetime, open_since: datetime, limit: int) -> FailureWindow | None:
    """Count one failed redemption in the org's window, atomically and only if the window is not
    full: returns None once counted, or the full window (nothing counted). A window that has
    ended is replaced by a new one starting now, unless another request just did that."""
    since = to_iso(open_since)
    for _ in range(5):  # each round loses only to another request that made progress
        try:
            dynamo.write(
                dynamo.update(
                    keys.throttle_key(org_id),
                    "SET failures = failures + :one",
                    condition="window_start > :since AND failures < :limit",
                    values={":one": 1, ":since": since, ":limit": limit},
                    on_fail=lambda old: _Full(_window(old)) if old and old["window_start"] > since else _Closed(),
                )
            )
            return None
        except _Full as full:
            return full.window
        except _Closed:
            pass
        try:
            dynamo.write(
                dynamo.put(
                    {**keys.throttle_key(org_id), "type": "throttle", "window_start": to_iso(now), "failures": 1},
                    condition="attribute_not_exists(PK) OR window_start <= :since",
                    values={":since": since},
                    on_fail=lambda _old: _Closed(),
                )
            )
            return None
        except _Closed:
            continue  # another failure opened the new window first: count in it
    raise dynamo.busy()

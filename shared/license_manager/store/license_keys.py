"""License keys, the vendor's own log, and the failed-redemption window.

KEY#<key_id>          KEY                 a license key (hash id, product, licenses, status, last5)
VENDOR                EV#<event_id>       the vendor's log: keys_issued, key_revoked
ORG#<org_id>          THROTTLE#redeem     failed redemptions in the current window
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from license_manager.domain.errors import Conflict, NotFound
from license_manager.domain.history import HistoryEvent
from license_manager.domain.identity import Role
from license_manager.domain.license_keys import KeyStatus, LicenseKey, refuse_redemption
from license_manager.domain.licensing import ProductState
from license_manager.domain.orgs import Member
from license_manager.domain.throttle import FailureWindow
from license_manager.domain.timefmt import parse_iso, to_iso
from license_manager.domain.vendor import VendorEvent
from license_manager.store import dynamo, keys
from license_manager.store.dynamo import Item
from license_manager.store.history import put_event
from license_manager.store.licensing import get_many, state_put
from license_manager.store.orgs import member_from_item, membership_check

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


def put_batch(batch: Sequence[LicenseKey], event: VendorEvent) -> None:
    """All keys of a batch and its log line, or none (a transaction holds at most 100 items)."""
    dynamo.transact(
        [*(dynamo.put(key_item(k), condition="attribute_not_exists(PK)") for k in batch), vendor_event_put(event)]
    )


def get_key(key_id: str) -> LicenseKey | None:
    item = dynamo.get(keys.license_key(key_id))
    return key_from_item(item) if item else None


class AlreadyRevoked(Exception):
    """Another revocation got there first (the vendor's intent is met either way)."""

    def __init__(self, key: LicenseKey) -> None:
        super().__init__(key.key_id)
        self.key = key


def revoke(key: LicenseKey, at: datetime, by: str, event: VendorEvent) -> LicenseKey:
    """The key, revoked now, or as another revocation left it a moment ago."""

    def refused(old: Item | None) -> Exception:
        if old is None:
            return NotFound("No license key has this id.")
        if old.get("status") == KeyStatus.REVOKED.value:
            return AlreadyRevoked(key_from_item(old))
        return Conflict(
            "This key has been redeemed meanwhile; a redeemed key cannot be revoked.", code="already_redeemed"
        )

    try:
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
                    on_fail=refused,
                ),
                vendor_event_put(event),
            ]
        )
    except AlreadyRevoked as earlier:
        return earlier.key
    return replace(key, status=KeyStatus.REVOKED, revoked_at=at, revoked_by=by)


# -- redeeming -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RedemptionRead:
    member: Member | None
    key: LicenseKey | None
    failures: FailureWindow | None


def read_for_redemption(org_id: str, email: str, key_id: str) -> RedemptionRead:
    """Call 1 of at most 3: membership, key and the org's failure window, in one consistent read."""
    items = get_many([keys.member_key(org_id, email), keys.license_key(key_id), keys.throttle_key(org_id)])
    by_sk = {i["SK"]: i for i in items}
    member = by_sk.get(keys.member_key(org_id, email)["SK"])
    key = by_sk.get(keys.KEY_SK)
    window = by_sk.get(keys.THROTTLE_SK)
    return RedemptionRead(
        member=member_from_item(member) if member else None,
        key=key_from_item(key) if key else None,
        failures=FailureWindow(parse_iso(window["window_start"]), int(window["failures"])) if window else None,
    )


def redeem(
    member: Member,
    key: LicenseKey,
    *,
    redeemed_at: datetime,
    before_version: int,
    after: ProductState,
    events: Sequence[HistoryEvent],
    roles: Sequence[Role],
    outbox: Sequence[dynamo.TxAction] = (),
) -> None:
    """Call 3 of 3, one transaction: the key becomes redeemed (only if still issued), the state
    takes the licenses (only if unchanged since read), the events are written, and the caller is
    still admin. Exactly-once: a second redemption of the key fails its condition."""

    def key_refused(old: Item | None) -> Exception:
        refuse_redemption(key_from_item(old) if old else None, member.org_id)
        return Conflict("This license key has already been redeemed.", code="already_redeemed")

    dynamo.transact(
        [
            membership_check(member, roles),
            dynamo.update(
                keys.license_key(key.key_id),
                "SET #status = :redeemed, redeemed_org_id = :org, redeemed_by = :by, redeemed_at = :at",
                condition="#status = :issued",
                names={"#status": "status"},
                values={
                    ":redeemed": KeyStatus.REDEEMED.value,
                    ":issued": KeyStatus.ISSUED.value,
                    ":org": member.org_id,
                    ":by": member.email,
                    ":at": to_iso(redeemed_at),
                },
                on_fail=key_refused,
            ),
            state_put(before_version, after),
            *(put_event(member.org_id, e) for e in events),
            *outbox,
        ]
    )


def record_failure(org_id: str, before: FailureWindow | None, after: FailureWindow) -> None:
    """Count one failed redemption (the only write of a failed one). Same window: an atomic
    increment; a new window: replace the old one, unless another request just did."""
    try:
        if before is not None and before.window_start == after.window_start:
            dynamo.client().update_item(
                TableName=dynamo.table_name(),
                Key=dynamo.to_attrs(keys.throttle_key(org_id)),
                UpdateExpression="SET failures = failures + :one",
                ConditionExpression="window_start = :ws",
                ExpressionAttributeValues=dynamo.to_attrs({":one": 1, ":ws": to_iso(after.window_start)}),
            )
        else:
            item = {
                **keys.throttle_key(org_id),
                "type": "throttle",
                "window_start": to_iso(after.window_start),
                "failures": after.failures,
            }
            params: dict[str, Any] = {"TableName": dynamo.table_name(), "Item": dynamo.to_attrs(item)}
            if before is None:
                params["ConditionExpression"] = "attribute_not_exists(PK)"
            else:
                params["ConditionExpression"] = "window_start = :ws"
                params["ExpressionAttributeValues"] = dynamo.to_attrs({":ws": to_iso(before.window_start)})
            dynamo.client().put_item(**params)
    except ClientError as err:
        if dynamo.error_code(err) != "ConditionalCheckFailedException":
            dynamo.raise_mapped(err)
            raise
        # another failed redemption moved the window at the same moment; it was counted there

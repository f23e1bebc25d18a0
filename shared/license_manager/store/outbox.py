"""Notifications waiting to be published: written in the same transaction as the change that
calls for them, published to EventBridge by the sweep, then deleted (at-least-once, stable ids).

    OUTBOX#<n>    <event_id>       detail_type, detail (JSON), created_at

The outbox is spread over `keys.OUTBOX_SHARDS` partitions (n from the org and product, so one
subscription's notifications wait in one partition, in the order they were written): a single
key would cap every notification of the service at one partition's write rate.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from license_manager.domain.renewals import Notification
from license_manager.domain.timefmt import parse_iso, to_iso
from license_manager.store import dynamo, keys


@dataclass(frozen=True)
class Pending:
    event_id: str
    detail_type: str
    detail: dict[str, Any]
    shard: str  # the outbox partition it waits in

    @property
    def key(self) -> dict[str, str]:
        return keys.outbox_key(self.shard, self.event_id)


def detail(notification: Notification, event_id: str, occurred_at: datetime) -> dict[str, Any]:
    """The event's `detail`, as documented in docs/events.md."""
    n = notification
    return {
        "event_id": event_id,
        "occurred_at": to_iso(occurred_at),
        "org_id": n.org_id,
        "product_id": n.product_id,
        "period_number": n.period_number,
        "period_start": to_iso(n.period_start),
        "period_end": to_iso(n.period_end),
        "grace_ends_at": to_iso(n.grace_ends_at),
        "devices": n.devices,
        "licensed": n.licensed,
        "wallet": n.wallet,
        "consumed_from_wallet": n.consumed,
        "shortfall": n.shortfall,
        "licenses_to_buy_before_next_renewal": n.licenses_to_buy_before_next_renewal,
    }


def record(notification: Notification, event_id: str, occurred_at: datetime) -> Pending:
    """The outbox record of a notification: what `put` writes, and what the writer may publish
    itself once its transaction has committed (without reading it back)."""
    return Pending(
        event_id,
        notification.notice.value,
        detail(notification, event_id, occurred_at),
        keys.outbox_shard(notification.org_id, notification.product_id),
    )


def put(notification: Notification, event_id: str, occurred_at: datetime) -> dynamo.TxAction:
    return put_record(record(notification, event_id, occurred_at), occurred_at)


def put_record(pending: Pending, occurred_at: datetime) -> dynamo.TxAction:
    item = {
        **pending.key,
        "type": "outbox",
        "detail_type": pending.detail_type,
        "detail": json.dumps(pending.detail, sort_keys=True),
        "created_at": to_iso(occurred_at),
    }
    return dynamo.put(item, condition="attribute_not_exists(PK)")


def pending(page_size: int = 100) -> Iterator[list[Pending]]:
    """Pages of waiting notifications, shard by shard, oldest first within a shard (event ids
    sort by time). Consistent reads: what was just published and deleted is not seen again."""
    for shard in keys.outbox_shards():
        params = {
            "KeyConditionExpression": "PK = :pk",
            "ExpressionAttributeValues": dynamo.to_attrs({":pk": shard}),
            "ConsistentRead": True,
            "Limit": page_size,
        }
        for page in dynamo.query_pages(params):
            yield [Pending(i["SK"], i["detail_type"], json.loads(i["detail"]), shard) for i in page]


def delete(published: Sequence[Pending]) -> None:
    dynamo.delete_many([p.key for p in published])


def backlog() -> tuple[int, datetime | None]:
    """How many notifications wait, and when the oldest was written (None: none wait)."""
    waiting, oldest = 0, None
    for shard in keys.outbox_shards():
        params = {
            "KeyConditionExpression": "PK = :pk",
            "ExpressionAttributeValues": dynamo.to_attrs({":pk": shard}),
            "ProjectionExpression": "created_at",
        }
        for page in dynamo.query_pages(params):
            first = parse_iso(page[0]["created_at"])  # the shard's oldest (ids sort by time)
            oldest = first if oldest is None else min(oldest, first)
            waiting += len(page)
    return waiting, oldest

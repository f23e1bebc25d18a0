"""Notifications waiting to be published: written in the same transaction as the change that
calls for them, published to EventBridge by the sweep, then deleted (at-least-once, stable ids).

    OUTBOX        <event_id>       detail_type, detail (JSON), created_at
"""

from __future__ import annotations

import json
from collections.abc import Iterator
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


def put(notification: Notification, event_id: str, occurred_at: datetime) -> dynamo.TxAction:
    item = {
        **keys.outbox_key(event_id),
        "type": "outbox",
        "detail_type": notification.notice.value,
        "detail": json.dumps(detail(notification, event_id, occurred_at), sort_keys=True),
        "created_at": to_iso(occurred_at),
    }
    return dynamo.put(item, condition="attribute_not_exists(PK)")


def pending(page_size: int = 100) -> Iterator[list[Pending]]:
    """Pages of waiting notifications, oldest first (event ids sort by time)."""
    params = {
        "KeyConditionExpression": "PK = :pk",
        "ExpressionAttributeValues": dynamo.to_attrs({":pk": keys.OUTBOX_PK}),
        "Limit": page_size,
    }
    for page in dynamo.query_pages(params):
        yield [Pending(i["SK"], i["detail_type"], json.loads(i["detail"])) for i in page]


def delete(event_ids: list[str]) -> None:
    dynamo.delete_many([keys.outbox_key(e) for e in event_ids])


def backlog() -> tuple[int, datetime | None]:
    """How many notifications wait, and when the oldest was written (None: none wait)."""
    params = {
        "KeyConditionExpression": "PK = :pk",
        "ExpressionAttributeValues": dynamo.to_attrs({":pk": keys.OUTBOX_PK}),
        "ProjectionExpression": "created_at",
    }
    waiting, oldest = 0, None
    for page in dynamo.query_pages(params):
        if oldest is None and page:
            oldest = parse_iso(page[0]["created_at"])
        waiting += len(page)
    return waiting, oldest

"""History events: written inside the transaction of the change they record."""

from __future__ import annotations

from typing import Any

from license_manager.domain.history import HistoryEvent
from license_manager.domain.timefmt import parse_iso, to_iso
from license_manager.store import dynamo, keys
from license_manager.store.dynamo import TxAction

_TIME_FIELDS = ("at", "period_start")


def event_item(org_id: str, event: HistoryEvent) -> dict[str, Any]:
    data = event.model_dump(mode="python", exclude_none=True)
    for name in _TIME_FIELDS:
        if name in data:
            data[name] = to_iso(data[name])
    data["action"] = event.action.value
    return {"PK": keys.history_pk(org_id), "SK": keys.event_sk(event.event_id), "type": "event", **data}


def put_event(org_id: str, event: HistoryEvent) -> TxAction:
    """A Put for the transaction of the change; event ids are unique, so it cannot overwrite."""
    return dynamo.put(event_item(org_id, event), condition="attribute_not_exists(PK)")


def event_from_item(item: dict[str, Any]) -> HistoryEvent:
    data = {k: v for k, v in item.items() if k not in {"PK", "SK", "type"}}
    for name in _TIME_FIELDS:
        if name in data:
            data[name] = parse_iso(data[name])
    return HistoryEvent.model_validate(data)


def list_events(org_id: str, limit: int, after_event_id: str | None) -> tuple[list[HistoryEvent], str | None]:
    """Newest first. Returns the events and the id to continue after (None at the end)."""
    params: dict[str, Any] = {
        "KeyConditionExpression": "PK = :pk AND begins_with(SK, :ev)",
        "ExpressionAttributeValues": dynamo.to_attrs({":pk": keys.history_pk(org_id), ":ev": keys.EVENT_PREFIX}),
        "ScanIndexForward": False,
        "Limit": limit + 1,  # one extra tells whether another page exists
    }
    if after_event_id is not None:
        params["ExclusiveStartKey"] = dynamo.to_attrs(
            {"PK": keys.history_pk(org_id), "SK": keys.event_sk(after_event_id)}
        )
    items, _last = dynamo.query_page(params)
    events = [event_from_item(i) for i in items]
    if len(events) > limit:
        return events[:limit], events[limit - 1].event_id
    return events, None

"""Publishing notifications to EventBridge (the bus named by EVENT_BUS_NAME)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from license_manager import settings
from license_manager.store import aws
from license_manager.store.outbox import Pending

SOURCE = "license-manager"
MAX_ENTRIES = 10  # PutEvents takes at most 10 entries per call


@lru_cache(maxsize=1)
def client() -> Any:
    return aws.client("events", settings.current().events_endpoint_url, attempts=3)


def reset_client() -> None:
    client.cache_clear()


def publish(notifications: Sequence[Pending]) -> list[str]:
    """Publish; returns the event ids that EventBridge accepted (the others stay in the outbox)."""
    bus = settings.current().event_bus_name
    accepted: list[str] = []
    for start in range(0, len(notifications), MAX_ENTRIES):
        chunk = notifications[start : start + MAX_ENTRIES]
        resp = client().put_events(
            Entries=[
                {"Source": SOURCE, "DetailType": n.detail_type, "Detail": json.dumps(n.detail), "EventBusName": bus}
                for n in chunk
            ]
        )
        for sent, result in zip(chunk, resp.get("Entries", []), strict=False):
            if result.get("EventId") and not result.get("ErrorCode"):
                accepted.append(sent.event_id)
    return accepted

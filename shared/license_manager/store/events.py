"""Publishing notifications to EventBridge (the default bus, or EVENT_BUS_NAME)."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import boto3
from botocore.config import Config

from license_manager.store.outbox import Pending

SOURCE = "license-manager"
MAX_ENTRIES = 10  # PutEvents takes at most 10 entries per call


@lru_cache(maxsize=1)
def client() -> Any:
    endpoint = os.environ.get("EVENTS_ENDPOINT_URL") or None
    return boto3.client("events", endpoint_url=endpoint, config=Config(retries={"mode": "standard", "max_attempts": 5}))


def reset_client() -> None:
    client.cache_clear()


def publish(notifications: Sequence[Pending]) -> list[str]:
    """Publish; returns the event ids that EventBridge accepted (the others stay in the outbox)."""
    bus = os.environ.get("EVENT_BUS_NAME", "default")
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

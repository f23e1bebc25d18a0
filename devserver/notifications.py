"""What the functions publish to EventBridge, caught by a rule into a queue of the embedded AWS,
so that `GET /_dev/notifications` can show it."""

from __future__ import annotations

import json
from typing import Any

import boto3

from license_manager.store.events import SOURCE


class NotificationSink:
    def __init__(self, endpoint_url: str) -> None:
        self._events = boto3.client("events", endpoint_url=endpoint_url)
        self._sqs = boto3.client("sqs", endpoint_url=endpoint_url)
        self._queue = self._sqs.create_queue(QueueName="license-manager-notifications")["QueueUrl"]
        arn = self._sqs.get_queue_attributes(QueueUrl=self._queue, AttributeNames=["QueueArn"])["Attributes"]
        self._events.put_rule(Name="license-manager-notifications", EventPattern=json.dumps({"source": [SOURCE]}))
        self._events.put_targets(Rule="license-manager-notifications", Targets=[{"Id": "dev", "Arn": arn["QueueArn"]}])

    def drain(self) -> list[dict[str, Any]]:
        """Notifications published since the last call, oldest first."""
        found: list[dict[str, Any]] = []
        while True:
            messages = self._sqs.receive_message(QueueUrl=self._queue, MaxNumberOfMessages=10).get("Messages", [])
            if not messages:
                break
            for message in messages:
                body = json.loads(message["Body"])
                found.append({"detail_type": body["detail-type"], "source": body["source"], "detail": body["detail"]})
                self._sqs.delete_message(QueueUrl=self._queue, ReceiptHandle=message["ReceiptHandle"])
        return sorted(found, key=lambda n: str(n["detail"].get("event_id", "")))

"""AWS clients, configured one way: the settings' endpoints and time budget."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

from license_manager import settings


def client(service: str, endpoint_url: str | None, *, attempts: int) -> Any:
    """A client whose calls each take at most the settings' connect + read timeouts, tried
    `attempts` times by botocore (1: the caller makes its own retries, within the time budget)."""
    config = settings.current()
    make: Any = boto3.client  # typed per service name; the callers type what they get
    return make(
        service,
        endpoint_url=endpoint_url,
        config=Config(
            retries={"mode": "standard", "total_max_attempts": attempts},
            connect_timeout=config.connect_timeout_s,
            read_timeout=config.read_timeout_s,
            tcp_keepalive=True,
        ),
    )

"""The vendor's own log: key batches issued and keys revoked (never in a customer's history)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from license_manager.domain.timefmt import Instant


class VendorAction(StrEnum):
    KEYS_ISSUED = "keys_issued"
    KEY_REVOKED = "key_revoked"


class VendorEvent(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)

    event_id: str
    at: Instant
    actor: str
    action: VendorAction
    product_id: str
    batch_id: str | None = None
    count: int | None = None
    licenses: int | None = None
    key_id: str | None = None
    key_last5: str | None = None

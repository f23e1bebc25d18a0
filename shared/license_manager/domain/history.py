"""History events: who did what, when, with the figures of the change."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from license_manager.domain.timefmt import Instant


class Action(StrEnum):
    ORG_CREATED = "org_created"
    MEMBER_ADDED = "member_added"
    MEMBER_ROLE_CHANGED = "member_role_changed"
    MEMBER_REMOVED = "member_removed"
    TRIAL_STARTED = "trial_started"
    ACTIVATED = "activated"
    USAGE_CHANGED = "usage_changed"
    KEY_REDEEMED = "key_redeemed"
    RENEWED = "renewed"
    SYSTEM_REGISTERED = "system_registered"
    SYSTEM_REMOVED = "system_removed"


SYSTEM_ACTOR = "system"


class HistoryEvent(BaseModel):
    """One line of an org's audit log. Fields that do not apply to an action are null.

    Every event that moves licenses carries `consumed`, `from_wallet`, `to_wallet`,
    `wallet_after` and `licensed_after`, so an auditor can add them up.
    """

    model_config = ConfigDict(frozen=True, defer_build=True)

    event_id: str
    at: Instant
    actor: str = Field(
        description="The user's email, `system` for the renewal sweep, or `system:<system_id>` for an installed system."
    )
    action: Action
    product_id: str | None = None
    # membership
    member_email: str | None = None
    role: str | None = None
    previous_role: str | None = None
    org_name: str | None = None
    # licensing figures
    terms_version: str | None = None
    devices_before: int | None = None
    devices_after: int | None = None
    licenses: int | None = None
    key_last5: str | None = None
    period_start: Instant | None = None
    consumed: int | None = None
    from_wallet: int | None = None
    to_wallet: int | None = None
    wallet_after: int | None = None
    licensed_after: int | None = None
    shortfall: int | None = None
    # installed systems
    system_id: str | None = None
    system_name: str | None = None

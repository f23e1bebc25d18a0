"""What committed changes tell the people who run the service: business metrics, counted once per
change that reached the table (a lost race, a retry or a replayed answer counts nothing).
Names, units and dimensions: docs/operations.md ("Metrics")."""

from __future__ import annotations

from collections.abc import Sequence

from license_manager.domain.history import Action
from license_manager.domain.licensing import Change
from license_manager.domain.renewals import Notice, Notification
from license_manager.observability import count

# history action -> (metric, dimensions); renewals and usage are split below
_PLAIN: dict[Action, str] = {
    Action.TRIAL_STARTED: "TrialsStarted",
    Action.ACTIVATED: "Activations",
    Action.SYSTEM_REGISTERED: "SystemsRegistered",
    Action.SYSTEM_REMOVED: "SystemsRemoved",
}


def change_committed(change: Change, notices: Sequence[Notification] = ()) -> None:
    """Count what one committed licensing transaction did."""
    for event in change.events:
        if event.action is Action.RENEWED:
            count("Renewals", outcome="shortfall" if event.shortfall else "renewed")
        elif event.action is Action.USAGE_CHANGED:
            count("UsageChanges", source="system" if event.system_id else "user")
        elif event.action is Action.KEY_REDEEMED:
            count("Redemptions", outcome="ok")
            count("LicensesRedeemed", event.licenses or 0)
        elif event.action in _PLAIN:
            count(_PLAIN[event.action])
    for notice in notices:
        if notice.notice is Notice.LICENSE_LAPSED:
            count("Renewals", outcome="lapsed")
        elif notice.notice is Notice.GRACE_ENDING_SOON:
            count("GraceWarnings")


def redemption_refused(reason: str) -> None:
    """A key refused (reason: the problem's code, or "throttled"): guessing shows up here."""
    count("Redemptions", outcome=reason)

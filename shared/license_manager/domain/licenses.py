"""What a system's signed license says (docs/systems.md): its figures as the org sees them now
(docs/rules.md, rule 5), valid until the earlier of 30 days and the next instant its status can
change on its own (a trial's end, a grace period's end, a period's end)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from license_manager.domain.licensing import ProductState, settled, status_at
from license_manager.domain.systems import System

MAX_VALIDITY = timedelta(days=30)
TYPE = "license+jwt"


def _epoch(instant: datetime) -> int:
    return int(instant.timestamp())


def next_change(state: ProductState, now: datetime) -> datetime | None:
    """The next instant the status may change with no one doing anything (None: never)."""
    current = settled(state, now)
    candidates: list[datetime] = []
    if current.activated:
        _start, end, grace = current.period_bounds(current.period)
        candidates.append(end)
        if current.licensed < current.devices:
            candidates.append(grace)
    elif current.trial_ends_at is not None:
        candidates.append(current.trial_ends_at)
    later = [c for c in candidates if c > now]
    return min(later) if later else None


def expires_at(state: ProductState, now: datetime) -> datetime:
    change = next_change(state, now)
    return min(now + MAX_VALIDITY, change) if change is not None else now + MAX_VALIDITY


def claims(system: System, state: ProductState, issuer: str, now: datetime, jti: str) -> dict[str, Any]:
    current = settled(state, now)
    status = status_at(state, now)
    period_end = grace_end = None
    if current.activated:
        _start, end, grace = current.period_bounds(current.period)
        period_end, grace_end = _epoch(end), _epoch(grace)
    return {
        "iss": issuer,
        "sub": system.system_id,
        "jti": jti,
        "iat": _epoch(now),
        "exp": _epoch(expires_at(state, now)),
        "org_id": system.org_id,
        "product_id": system.product_id,
        "system_name": system.name,
        "status": status.value if status is not None else None,
        "devices": current.devices,
        "system_devices": system.devices,
        "licensed": current.licensed if current.activated else 0,
        "period_end": period_end,
        "grace_ends_at": grace_end,
        "trial_ends_at": _epoch(current.trial_ends_at) if current.trial_ends_at and not current.activated else None,
    }

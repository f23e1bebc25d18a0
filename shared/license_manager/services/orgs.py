"""Organizations, members and the history read."""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass, replace
from datetime import datetime

from license_manager import clock, ids
from license_manager.domain.errors import Conflict, InvalidInput, NotFound
from license_manager.domain.history import Action, HistoryEvent
from license_manager.domain.identity import Caller, Role, normalize_email, require_role
from license_manager.domain.orgs import Member, Org
from license_manager.store import history as history_store
from license_manager.store import orgs as store

_ORG_ID = re.compile(r"^org_[0-9a-z]{20}$")


def valid_org_id(org_id: str) -> bool:
    """Ids this service could have made; anything else is answered 404 without a database call."""
    return _ORG_ID.match(org_id) is not None


def require_member(caller: Caller, org_id: str, required: Role) -> Member:
    """The caller's membership, or 404 for non-members (no hint the org exists), 403 for a weaker role."""
    member = store.get_member(org_id, caller.email) if valid_org_id(org_id) else None
    if member is None:
        raise NotFound("Organization not found.")
    require_role(member.role, required)
    return member


def create_org(caller: Caller, name: str) -> Member:
    now = clock.now()
    org = Org(org_id=ids.new_org_id(), name=name.strip(), created_at=now, created_by=caller.email)
    owner = Member(org.org_id, org.name, caller.email, Role.OWNER, now, caller.email)
    event = HistoryEvent(
        event_id=ids.new_event_id(now),
        at=now,
        actor=caller.email,
        action=Action.ORG_CREATED,
        org_name=org.name,
        member_email=caller.email,
        role=Role.OWNER.value,
    )
    store.create_org(org, owner, event)
    return owner


def my_orgs(caller: Caller) -> list[Member]:
    return sorted(store.list_memberships_of(caller.email), key=lambda m: (m.org_name.lower(), m.org_id))


def list_members(caller: Caller, org_id: str) -> list[Member]:
    require_member(caller, org_id, Role.OWNER)
    return sorted(store.list_members(org_id), key=lambda m: m.email)


@dataclass(frozen=True)
class MemberChange:
    member: Member
    created: bool


def _member_event(caller: Caller, now: datetime, action: Action, email: str, role: Role, **extra: str) -> HistoryEvent:
    return HistoryEvent(
        event_id=ids.new_event_id(now),
        at=now,
        actor=caller.email,
        action=action,
        member_email=email,
        role=role.value,
        **extra,
    )


def put_member(caller: Caller, org_id: str, email: str, role: Role) -> MemberChange:
    """Add a member (created) or change an existing member's role. Only owners manage members.
    The last owner is kept by the write itself (owner_count, conditioned atomically)."""
    me = require_member(caller, org_id, Role.OWNER)
    email = normalize_email(email)
    now = clock.now()
    existing = store.get_member(org_id, email)
    if existing is None:
        member = Member(org_id, me.org_name, email, role, now, caller.email)
        store.add_member(me, member, _member_event(caller, now, Action.MEMBER_ADDED, email, role))
        return MemberChange(member, created=True)
    if existing.role is role:
        raise Conflict(f"{email} is already a member with the role {role.value}.", code="already_member")
    event = _member_event(caller, now, Action.MEMBER_ROLE_CHANGED, email, role, previous_role=existing.role.value)
    store.change_role(me, existing, role, event)
    return MemberChange(replace(existing, role=role), created=False)


def remove_member(caller: Caller, org_id: str, email: str) -> None:
    me = require_member(caller, org_id, Role.OWNER)
    email = normalize_email(email)
    member = store.get_member(org_id, email)
    if member is None:
        raise NotFound(f"{email} is not a member of this organization.")
    store.remove_member(me, member, _member_event(caller, clock.now(), Action.MEMBER_REMOVED, email, member.role))


@dataclass(frozen=True)
class HistoryPage:
    events: list[HistoryEvent]
    next_cursor: str | None


def _encode_cursor(org_id: str, event_id: str) -> str:
    raw = json.dumps({"o": org_id, "e": event_id}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(org_id: str, cursor: str) -> str:
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        event_id = data["e"]
        valid = data["o"] == org_id and isinstance(event_id, str) and re.fullmatch(r"[0-9A-Za-z]{1,64}", event_id)
    except (binascii.Error, ValueError, KeyError, TypeError, UnicodeDecodeError):
        valid = False
    if not valid:
        raise InvalidInput("cursor is not one this API returned for this organization.", field="cursor")
    return str(event_id)


def history(caller: Caller, org_id: str, limit: int, cursor: str | None) -> HistoryPage:
    require_member(caller, org_id, Role.VIEWER)
    after = _decode_cursor(org_id, cursor) if cursor else None
    events, last = history_store.list_events(org_id, limit, after)
    return HistoryPage(events, _encode_cursor(org_id, last) if last else None)

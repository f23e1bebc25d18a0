"""Organizations, members and the history read (docs/rules.md, rules 7 and 9)."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime

from license_manager import clock, ids
from license_manager.domain import paging
from license_manager.domain.errors import Conflict, Forbidden, InvalidInput, NotFound, Unavailable, raises
from license_manager.domain.history import Action, HistoryEvent
from license_manager.domain.identity import Caller, Role, normalize_email
from license_manager.domain.orgs import Member, Org, already_member, not_a_member
from license_manager.services.unit_of_work import Grant, JsonCodec, Remember, RequestKey, authorize, once
from license_manager.store import dynamo
from license_manager.store import history as history_store
from license_manager.store import orgs as store

_EVENT_ID = re.compile(r"^[0-9A-Za-z]{1,64}$")


@raises(InvalidInput, Unavailable)
def create_org(caller: Caller, name: str, key: RequestKey | None = None) -> Member:
    return once(key, JsonCodec(Member), lambda remember: _create_org(caller, name, remember))


def _create_org(caller: Caller, name: str, remember: Remember[Member]) -> Member:
    now = clock.now()
    org = Org(org_id=ids.new_org_id(), name=name, created_at=now, created_by=caller.email)
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
    store.create_org(org, owner, event, also=remember(owner))
    return owner


@dataclass(frozen=True)
class OrgsPage:
    orgs: list[Member]
    next_cursor: str | None


@raises(InvalidInput, Unavailable)
def my_orgs(caller: Caller, limit: int, cursor: str | None) -> OrgsPage:
    """The caller's orgs and roles, by name, a page at a time."""
    bound = "orgs:" + caller.email
    after = paging.decode(bound, cursor) if cursor else None
    members, last = store.memberships_page(caller.email, limit, after)
    return OrgsPage(members, paging.encode(bound, last) if last else None)


@raises(NotFound, Forbidden, Unavailable)
def list_members(caller: Caller, org_id: str) -> list[Member]:
    access = authorize(caller, org_id, Role.OWNER)
    access.admit(store.get_member(org_id, caller.email))
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


def _acting(grant: Grant, target_email: str) -> list[dynamo.TxAction]:
    """The acting owner is still owner, checked in the transaction, unless they act on their own
    membership (one action per item per transaction; that item's own condition covers it then)."""
    return [] if grant.member.email == target_email else [grant.still_held()]


def _owner_and_target(caller: Caller, org_id: str, email: str) -> tuple[Grant, Member | None]:
    """The acting owner's grant and the target membership, in one consistent read."""
    access = authorize(caller, org_id, Role.OWNER)
    members = store.get_members(org_id, [caller.email, email])
    return access.admit(members.get(caller.email)), members.get(email)


@raises(NotFound, Forbidden, Conflict, InvalidInput, Unavailable)
def put_member(caller: Caller, org_id: str, email: str, role: Role, key: RequestKey | None = None) -> MemberChange:
    """Add a member (created) or change an existing member's role. Only owners manage members.
    The last owner is kept by the write itself (owner_count, conditioned atomically)."""
    email = normalize_email(email)
    return once(key, JsonCodec(MemberChange), lambda remember: _put_member(caller, org_id, email, role, remember))


def _put_member(caller: Caller, org_id: str, email: str, role: Role, remember: Remember[MemberChange]) -> MemberChange:
    grant, existing = _owner_and_target(caller, org_id, email)
    now = clock.now()
    if existing is None:
        member = Member(org_id, grant.member.org_name, email, role, now, caller.email)
        change = MemberChange(member, created=True)
        event = _member_event(caller, now, Action.MEMBER_ADDED, email, role)
        store.add_member(_acting(grant, email), member, event, also=remember(change))
        return change
    if existing.role is role:
        raise already_member(email, role)
    event = _member_event(caller, now, Action.MEMBER_ROLE_CHANGED, email, role, previous_role=existing.role.value)
    change = MemberChange(replace(existing, role=role), created=False)
    store.change_role(_acting(grant, email), existing, role, event, also=remember(change))
    return change


@raises(NotFound, Forbidden, Conflict, InvalidInput, Unavailable)
def remove_member(caller: Caller, org_id: str, email: str) -> None:
    try:
        email = normalize_email(email)
    except InvalidInput:
        authorize(caller, org_id, Role.OWNER).admit(store.get_member(org_id, caller.email))  # 404 first
        raise
    grant, member = _owner_and_target(caller, org_id, email)
    if member is None:
        raise not_a_member(email)
    event = _member_event(caller, clock.now(), Action.MEMBER_REMOVED, email, member.role)
    store.remove_member(_acting(grant, email), member, event)


@dataclass(frozen=True)
class HistoryPage:
    events: list[HistoryEvent]
    next_cursor: str | None


@raises(NotFound, Forbidden, InvalidInput, Unavailable)
def history(caller: Caller, org_id: str, limit: int, cursor: str | None) -> HistoryPage:
    access = authorize(caller, org_id, Role.VIEWER)
    after = paging.decode("history:" + org_id, cursor).get("e") if cursor else None
    if cursor and (after is None or not _EVENT_ID.match(after)):
        raise InvalidInput("cursor is not one this API returned for this list.", field="cursor")
    access.admit(store.get_member(org_id, caller.email))
    events, last = history_store.list_events(org_id, limit, after)
    return HistoryPage(events, paging.encode("history:" + org_id, {"e": last}) if last else None)

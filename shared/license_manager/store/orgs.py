"""Organizations and memberships in the table.

ORG#<org_id>   ORG              the organization (name, owner_count, roles: {email: role})
ORG#<org_id>   MEMBER#<email>   a membership; GSI1: USER#<email> / <name sort key>#<org_id>

The org item keeps a copy of every member's role (`roles`), written in the same transaction as
the membership, so that reading what the org has (overview, wallet) is one query over the org's
own items that also authorizes the caller, without reading the other members' items. The
membership items stay the record (added when and by whom; the GSI of "my orgs").
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from license_manager.domain import orgs as rules
from license_manager.domain.history import HistoryEvent
from license_manager.domain.identity import Role
from license_manager.domain.orgs import Member, Org
from license_manager.domain.timefmt import parse_iso, to_iso
from license_manager.store import dynamo, keys
from license_manager.store.dynamo import Item
from license_manager.store.history import put_event

OnMemberLost = Callable[[Member | None], Exception]


def org_item(org: Org, roles: dict[str, Role]) -> Item:
    return {
        **keys.org_key(org.org_id),
        "type": "org",
        "org_id": org.org_id,
        "name": org.name,
        "created_at": to_iso(org.created_at),
        "created_by": org.created_by,
        "owner_count": org.owner_count,
        "roles": {email: role.value for email, role in roles.items()},
    }


def roles_from_item(item: Item) -> dict[str, Role]:
    """Every member's role, as the org item keeps them."""
    return {email: Role(role) for email, role in item.get("roles", {}).items()}


def org_from_item(item: Item) -> Org:
    return Org(
        org_id=item["org_id"],
        name=item["name"],
        created_at=parse_iso(item["created_at"]),
        created_by=item["created_by"],
        owner_count=int(item["owner_count"]),
    )


def member_item(member: Member) -> Item:
    return {
        **keys.member_key(member.org_id, member.email),
        "GSI1PK": keys.user_gsi1pk(member.email),
        "GSI1SK": keys.user_gsi1sk(member.org_name, member.org_id),
        "type": "member",
        "org_id": member.org_id,
        "org_name": member.org_name,
        "email": member.email,
        "role": member.role.value,
        "added_at": to_iso(member.added_at),
        "added_by": member.added_by,
    }


def member_from_item(item: Item) -> Member:
    return Member(
        org_id=item["org_id"],
        org_name=item["org_name"],
        email=item["email"],
        role=Role(item["role"]),
        added_at=parse_iso(item["added_at"]),
        added_by=item["added_by"],
    )


def membership_check(member: Member, roles: Sequence[Role], on_lost: OnMemberLost) -> dynamo.TxAction:
    """The member still has one of `roles`, checked inside the transaction of the change (a
    removed or demoted member's request in flight changes nothing). `on_lost` gets the
    membership as it is now (None: gone) and returns the error to raise."""
    role_values = {f":r{i}": r.value for i, r in enumerate(roles)}
    return dynamo.condition_check(
        keys.member_key(member.org_id, member.email),
        f"#role IN ({', '.join(role_values)})",
        names={"#role": "role"},
        values=role_values,
        on_fail=lambda old: on_lost(member_from_item(old) if old else None),
    )


def create_org(org: Org, owner: Member, event: HistoryEvent, also: Sequence[dynamo.TxAction] = ()) -> None:
    dynamo.transact(
        [
            dynamo.put(org_item(org, {owner.email: owner.role}), condition="attribute_not_exists(PK)"),
            dynamo.put(member_item(owner), condition="attribute_not_exists(PK)"),
            put_event(org.org_id, event),
            *also,
        ]
    )


def get_member(org_id: str, email: str) -> Member | None:
    item = dynamo.get(keys.member_key(org_id, email))
    return member_from_item(item) if item else None


def get_members(org_id: str, emails: Sequence[str]) -> dict[str, Member]:
    """Several memberships of one org in one consistent read, by email."""
    items = dynamo.get_many([keys.member_key(org_id, e) for e in dict.fromkeys(emails)])
    return {m.email: m for m in map(member_from_item, items)}


def list_members(org_id: str) -> list[Member]:
    items = dynamo.query_all(
        {
            "KeyConditionExpression": "PK = :pk AND begins_with(SK, :m)",
            "ExpressionAttributeValues": dynamo.to_attrs({":pk": keys.org_pk(org_id), ":m": keys.MEMBER_PREFIX}),
            "ConsistentRead": True,
        }
    )
    return [member_from_item(i) for i in items]


def memberships_page(
    email: str, limit: int, after: dict[str, str] | None
) -> tuple[list[Member], dict[str, str] | None]:
    """A page of the orgs a user belongs to, by org name, through GSI1 (eventually consistent,
    like every GSI). Returns the position to continue after (None at the end)."""
    params: dict[str, Any] = {
        "IndexName": "GSI1",
        "KeyConditionExpression": "GSI1PK = :u",
        "ExpressionAttributeValues": dynamo.to_attrs({":u": keys.user_gsi1pk(email)}),
        "Limit": limit + 1,  # one extra tells whether another page exists
    }
    if after is not None:
        params["ExclusiveStartKey"] = dynamo.to_attrs(after)
    items, _last = dynamo.query_page(params)
    if len(items) <= limit:
        return [member_from_item(i) for i in items], None
    last = items[limit - 1]
    return [member_from_item(i) for i in items[:limit]], {k: last[k] for k in ("PK", "SK", "GSI1PK", "GSI1SK")}


def _org_roles(org_id: str, email: str, before: Role | None, after: Role | None) -> dynamo.TxAction:
    """The org item follows a membership change: its copy of the member's role, and its owner
    count; when an owner goes, at least one must remain; a new member needs room."""
    delta = rules.owner_delta(before, after)
    keeps_an_owner = delta < 0
    adds = before is None
    conditions = ["attribute_exists(PK)"]
    values: dict[str, Any] = {":d": delta}
    if keeps_an_owner:
        conditions.append("owner_count > :one")
        values[":one"] = 1
    if adds:
        conditions.append("size(#roles) < :max")
        values[":max"] = rules.MAX_MEMBERS
    if after is None:
        expression = "SET owner_count = owner_count + :d REMOVE #roles.#email"
    else:
        expression = "SET owner_count = owner_count + :d, #roles.#email = :role"
        values[":role"] = after.value

    def refusal(old: Item | None) -> Exception:
        if old is None:
            return rules.org_not_found()
        if keeps_an_owner and int(old["owner_count"]) <= 1:
            return rules.last_owner()
        return rules.too_many_members() if adds else rules.membership_changed()

    return dynamo.update(
        keys.org_key(org_id),
        expression,
        condition=" AND ".join(conditions),
        names={"#roles": "roles", "#email": email},
        values=values,
        on_fail=refusal,
    )


def _role_still(member: Member) -> dict[str, Any]:
    return {
        "condition": "#role = :before",
        "names": {"#role": "role"},
        "values": {":before": member.role.value},
        "on_fail": lambda _old: rules.membership_changed(),
    }


def add_member(
    acting: Sequence[dynamo.TxAction], member: Member, event: HistoryEvent, also: Sequence[dynamo.TxAction] = ()
) -> None:
    """New member + owner count + history, atomically, with the acting owner's `acting` checks."""
    dynamo.transact(
        [
            *acting,
            _org_roles(member.org_id, member.email, None, member.role),
            dynamo.put(
                member_item(member),
                condition="attribute_not_exists(PK)",
                on_fail=lambda _old: rules.already_member(member.email),
            ),
            put_event(member.org_id, event),
            *also,
        ]
    )


def change_role(
    acting: Sequence[dynamo.TxAction],
    before: Member,
    after: Role,
    event: HistoryEvent,
    also: Sequence[dynamo.TxAction] = (),
) -> None:
    """Change a member's role, provided it is still what the decision was based on. Demoting an
    owner requires another owner to remain, checked in the same transaction, so two owners
    demoting each other at once cannot leave the org without one."""
    role = _role_still(before)
    dynamo.transact(
        [
            *acting,
            _org_roles(before.org_id, before.email, before.role, after),
            dynamo.update(
                keys.member_key(before.org_id, before.email),
                "SET #role = :after",
                condition=role["condition"],
                names=role["names"],
                values={**role["values"], ":after": after.value},
                on_fail=role["on_fail"],
            ),
            put_event(before.org_id, event),
            *also,
        ]
    )


def remove_member(acting: Sequence[dynamo.TxAction], member: Member, event: HistoryEvent) -> None:
    dynamo.transact(
        [
            *acting,
            _org_roles(member.org_id, member.email, member.role, None),
            dynamo.delete(keys.member_key(member.org_id, member.email), **_role_still(member)),
            put_event(member.org_id, event),
        ]
    )

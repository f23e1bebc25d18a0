"""Organizations and memberships in the table."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from license_manager.domain.errors import Conflict, DomainError, Forbidden, NotFound
from license_manager.domain.history import HistoryEvent
from license_manager.domain.identity import Role
from license_manager.domain.orgs import Member, Org, owner_delta
from license_manager.domain.timefmt import parse_iso, to_iso
from license_manager.store import dynamo, keys
from license_manager.store.dynamo import Item
from license_manager.store.history import put_event


def org_item(org: Org) -> Item:
    return {
        **keys.org_key(org.org_id),
        "type": "org",
        "org_id": org.org_id,
        "name": org.name,
        "created_at": to_iso(org.created_at),
        "created_by": org.created_by,
        "owner_count": org.owner_count,
    }


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
        "GSI1SK": keys.org_pk(member.org_id),
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


def _org_gone(_old: Item | None) -> DomainError:
    return NotFound("Organization not found.")


def _membership_changed(_old: Item | None) -> DomainError:
    return Conflict("The membership changed while the request ran; read it again and retry.")


def _last_owner(_old: Item | None) -> DomainError:
    return Conflict("This is the organization's last owner. Make another member owner first.", code="last_owner")


def membership_check(member: Member, roles: Sequence[Role]) -> dynamo.TxAction:
    """The caller still has one of `roles`, checked inside the transaction of the change (a
    removed or demoted member's request in flight changes nothing)."""
    role_values = {f":r{i}": r.value for i, r in enumerate(roles)}
    needed = " or ".join(r.value for r in roles)

    def lost(old: Item | None) -> DomainError:
        if old is None:
            return NotFound("Organization not found.")
        return Forbidden(f"This needs the {needed} role in the organization; you are {old.get('role')}.")

    return dynamo.condition_check(
        keys.member_key(member.org_id, member.email),
        f"#role IN ({', '.join(role_values)})",
        names={"#role": "role"},
        values=role_values,
        on_fail=lost,
    )


def _owner_still(by: Member, target_email: str) -> list[dynamo.TxAction]:
    """The acting owner is still owner, unless they act on their own membership (one action per
    item per transaction; that item's own condition covers it then)."""
    return [] if by.email == target_email else [membership_check(by, [Role.OWNER])]


def create_org(org: Org, owner: Member, event: HistoryEvent) -> None:
    dynamo.transact(
        [
            dynamo.put(org_item(org), condition="attribute_not_exists(PK)"),
            dynamo.put(member_item(owner), condition="attribute_not_exists(PK)"),
            put_event(org.org_id, event),
        ]
    )


def get_member(org_id: str, email: str) -> Member | None:
    item = dynamo.get(keys.member_key(org_id, email))
    return member_from_item(item) if item else None


def list_members(org_id: str) -> list[Member]:
    items = dynamo.query_all(
        {
            "KeyConditionExpression": "PK = :pk AND begins_with(SK, :m)",
            "ExpressionAttributeValues": dynamo.to_attrs({":pk": keys.org_pk(org_id), ":m": keys.MEMBER_PREFIX}),
            "ConsistentRead": True,
        }
    )
    return [member_from_item(i) for i in items]


def list_memberships_of(email: str) -> list[Member]:
    """The orgs a user belongs to, through GSI1 (eventually consistent, like every GSI)."""
    items = dynamo.query_all(
        {
            "IndexName": "GSI1",
            "KeyConditionExpression": "GSI1PK = :u",
            "ExpressionAttributeValues": dynamo.to_attrs({":u": keys.user_gsi1pk(email)}),
        }
    )
    return [member_from_item(i) for i in items]


def add_member(by: Member, member: Member, event: HistoryEvent) -> None:
    """New member + owner count + history, atomically; the org must still exist and `by` still
    be its owner."""
    delta = owner_delta(None, member.role)
    dynamo.transact(
        [
            *_owner_still(by, member.email),
            dynamo.update(
                keys.org_key(member.org_id),
                "SET owner_count = owner_count + :d",
                condition="attribute_exists(PK)",
                values={":d": delta},
                on_fail=_org_gone,
            ),
            dynamo.put(
                member_item(member),
                condition="attribute_not_exists(PK)",
                on_fail=lambda _old: Conflict(f"{member.email} is already a member.", code="already_member"),
            ),
            put_event(member.org_id, event),
        ]
    )


def change_role(by: Member, before: Member, after: Role, event: HistoryEvent) -> None:
    """Change a member's role, provided it is still what the decision was based on.

    Demoting an owner requires another owner to remain, checked in the same transaction, so two
    owners demoting each other at once cannot leave the org without one.
    """
    delta = owner_delta(before.role, after)
    org_condition = "attribute_exists(PK)" if delta >= 0 else "owner_count > :one"
    org_values: dict[str, Any] = {":d": delta} if delta >= 0 else {":d": delta, ":one": 1}
    dynamo.transact(
        [
            *_owner_still(by, before.email),
            dynamo.update(
                keys.org_key(before.org_id),
                "SET owner_count = owner_count + :d",
                condition=org_condition,
                values=org_values,
                on_fail=_last_owner if delta < 0 else _org_gone,
            ),
            dynamo.update(
                keys.member_key(before.org_id, before.email),
                "SET #role = :after",
                condition="#role = :before",
                names={"#role": "role"},
                values={":after": after.value, ":before": before.role.value},
                on_fail=_membership_changed,
            ),
            put_event(before.org_id, event),
        ]
    )


def remove_member(by: Member, member: Member, event: HistoryEvent) -> None:
    delta = owner_delta(member.role, None)
    org_condition = "attribute_exists(PK)" if delta == 0 else "owner_count > :one"
    org_values: dict[str, Any] = {":d": delta} if delta == 0 else {":d": delta, ":one": 1}
    dynamo.transact(
        [
            *_owner_still(by, member.email),
            dynamo.update(
                keys.org_key(member.org_id),
                "SET owner_count = owner_count + :d",
                condition=org_condition,
                values=org_values,
                on_fail=_last_owner if delta < 0 else _org_gone,
            ),
            dynamo.delete(
                keys.member_key(member.org_id, member.email),
                condition="#role = :role",
                names={"#role": "role"},
                values={":role": member.role.value},
                on_fail=_membership_changed,
            ),
            put_event(member.org_id, event),
        ]
    )

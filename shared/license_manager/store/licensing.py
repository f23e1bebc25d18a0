"""Per-org product state (trial, subscription, devices, wallet) in the org's partition.

ORG#<org_id>   PRODUCT#<product_id>   product state, with `version` for optimistic locking
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from license_manager.domain.errors import StaleState
from license_manager.domain.history import HistoryEvent
from license_manager.domain.identity import Role
from license_manager.domain.licensing import ProductState
from license_manager.domain.orgs import Member, Org
from license_manager.domain.renewals import next_due_at
from license_manager.domain.systems import System
from license_manager.domain.timefmt import parse_iso, to_iso
from license_manager.store import dynamo, keys
from license_manager.store.dynamo import Item
from license_manager.store.history import put_event
from license_manager.store.orgs import member_from_item, org_from_item, roles_from_item
from license_manager.store.system_items import system_from_item

_TIMES = ("trial_started_at", "trial_ends_at", "activated_at")
_INTS = (
    "devices",
    "wallet",
    "term_months",
    "period",
    "licensed",
    "consumed_total",
    "redeemed_total",
    "warned_period",
    "lapsed_period",
    "declared_devices",
    "reported_devices",
    "version",
)
_TEXTS = ("activated_by", "terms_version")


def state_item(state: ProductState) -> Item:
    item: Item = {
        **keys.product_key(state.org_id, state.product_id),
        "type": "product_state",
        "org_id": state.org_id,
        "product_id": state.product_id,
    }
    for name in _INTS + _TEXTS:
        item[name] = getattr(state, name)
    for name in _TIMES:
        value = getattr(state, name)
        item[name] = to_iso(value) if value is not None else None
    due = next_due_at(state)
    if due is not None:  # sparse: only subscriptions the sweep may have to visit are in GSI2
        item["GSI2PK"] = keys.renewal_shard(state.org_id, state.product_id)
        item["GSI2SK"] = f"{to_iso(due)}#{state.org_id}#{state.product_id}"
    return {k: v for k, v in item.items() if v is not None}


def state_from_item(item: Item) -> ProductState:
    data: dict[str, Any] = {"org_id": item["org_id"], "product_id": item["product_id"]}
    for name in _INTS:
        if name in item:
            data[name] = int(item[name])
    for name in _TEXTS:
        if name in item:
            data[name] = str(item[name])
    for name in _TIMES:
        if name in item:
            data[name] = parse_iso(item[name])
    if "declared_devices" not in item:  # stored before installed systems: every device was declared
        data["declared_devices"] = data.get("devices", 0) - data.get("reported_devices", 0)
    return ProductState(**data)


@dataclass(frozen=True)
class Loaded:
    member: Member | None
    state: ProductState | None


def load(org_id: str, email: str, product_id: str) -> Loaded:
    """The caller's membership and the product state, in one consistent read."""
    items = dynamo.get_many([keys.member_key(org_id, email), keys.product_key(org_id, product_id)])
    member = next((member_from_item(i) for i in items if i["SK"].startswith(keys.MEMBER_PREFIX)), None)
    state = next((state_from_item(i) for i in items if i["SK"].startswith(keys.PRODUCT_PREFIX)), None)
    return Loaded(member, state)


def state_put(before_version: int, after: ProductState) -> dynamo.TxAction:
    """The new state, as version `before_version + 1`, only if nobody changed it since it was read
    (version 0: not stored yet)."""
    return dynamo.put(
        state_item(replace(after, version=before_version + 1)),
        condition="attribute_not_exists(PK)" if before_version == 0 else "version = :v",
        values={":v": before_version} if before_version else None,
        on_fail=lambda _old: StaleState("product state changed since it was read"),
    )


def write(
    checks: Sequence[dynamo.TxAction],
    before_version: int,
    after: ProductState,
    events: Sequence[HistoryEvent],
    also: Sequence[dynamo.TxAction] = (),
) -> None:
    """The new state and its history events in one transaction, with `checks` (the caller still
    has the role) and `also` (notifications, the key being redeemed, the answer to remember):
    atomically, and only if nobody changed the state since it was read."""
    dynamo.transact([*checks, state_put(before_version, after), *(put_event(after.org_id, e) for e in events), *also])


def get_state(org_id: str, product_id: str) -> ProductState | None:
    item = dynamo.get(keys.product_key(org_id, product_id))
    return state_from_item(item) if item else None


def due(shard: str, now: datetime, page_size: int) -> Iterator[list[Due]]:
    """Pages of subscriptions with something due by `now`, from one shard of the sparse GSI2:
    only what is due is read, one page at a time (memory stays flat). The index projects the
    whole item, so each comes with its state as of a moment ago (the index is eventually
    consistent: a decision taken on it is written on its version, which refuses a stale one)."""
    params = {
        "IndexName": "GSI2",
        "KeyConditionExpression": "GSI2PK = :shard AND GSI2SK < :upto",
        "ExpressionAttributeValues": dynamo.to_attrs({":shard": shard, ":upto": to_iso(now) + "#~"}),
        "Limit": page_size,
    }
    # not dynamo.query_pages: that generator keeps the previous page alive while it reads the
    # next one, which measurably grows the sweep's peak with what is due (bench/sweep.py)
    start: dict[str, Any] | None = None
    while True:
        items, start = dynamo.query_page({**params, "ExclusiveStartKey": start} if start else params)
        page = [_due(i) for i in items]
        del items  # only one page is held, even while the next one is read
        if page:
            yield page
        del page
        if start is None:
            return


@dataclass(frozen=True)
class OrgView:
    org: Org | None
    role: Role | None  # the caller's, from the org item's copy of every member's role
    states: list[ProductState]
    systems: list[System]


def read_org(org_id: str, email: str, with_systems: bool = True) -> OrgView:
    """The org (with the caller's role), every product state and, if asked, every installed
    system: ONE query over a range of the org's partition that holds nothing else (the member
    items sort before it, the redemption window after it; history lives elsewhere), so what it
    reads follows the products and systems, never the members."""
    upto = keys.SYSTEM_PREFIX if with_systems else keys.PRODUCT_PREFIX
    params: dict[str, Any] = {
        "KeyConditionExpression": "PK = :pk AND SK BETWEEN :from AND :upto",
        "ExpressionAttributeValues": dynamo.to_attrs(
            {":pk": keys.org_pk(org_id), ":from": keys.ORG_SK, ":upto": keys.prefix_end(upto)}
        ),
        "ConsistentRead": True,
    }
    items = dynamo.query_all(params)  # one query: a second page only past 1 MB of state
    org_items = [i for i in items if i["SK"] == keys.ORG_SK]
    org = org_from_item(org_items[0]) if org_items else None
    role = roles_from_item(org_items[0]).get(email) if org_items else None
    states = [state_from_item(i) for i in items if i["SK"].startswith(keys.PRODUCT_PREFIX)]
    systems = [system_from_item(i).system for i in items if i["SK"].startswith(keys.SYSTEM_PREFIX)]
    return OrgView(org, role, states, systems)


@dataclass(frozen=True)
class Due:
    """A subscription found due, and its state as the index holds it (None: the index item
    could not be read as a state; read the item itself)."""

    org_id: str
    product_id: str
    state: ProductState | None


def _due(item: Item) -> Due:
    org_id, product_id = item["PK"].removeprefix("ORG#"), item["SK"].removeprefix(keys.PRODUCT_PREFIX)
    try:
        state = state_from_item(item)
    except (KeyError, TypeError, ValueError):  # an item the sweep cannot decide from: see get_state
        state = None
    return Due(org_id, product_id, state)

"""Installed systems and registration codes in the table.

ORG#<org_id>     SYSTEM#<system_id>   a system: name, product, kind, devices, status, credential hash,
                                      last seen, `version` (optimistic locking)
REGCODE#<hash>   CODE                 a registration code: org, expiry, the system it registered
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from license_manager.domain.licensing import ProductState
from license_manager.domain.systems import RegistrationCode, System
from license_manager.domain.timefmt import parse_iso, to_iso
from license_manager.store import dynamo, keys
from license_manager.store.dynamo import Item
from license_manager.store.licensing import state_from_item
from license_manager.store.system_items import Stored, system_from_item, system_item


def system_put(
    before: Stored | None, after: System, on_changed: Callable[[System | None], Exception]
) -> dynamo.TxAction:
    """The system as `after`, only if it is still as it was read (`before` None: a new system);
    `on_changed` gets it as it is now and returns the error to raise."""
    version = before.version if before is not None else 0
    return dynamo.put(
        system_item(after, version + 1),
        condition="attribute_not_exists(PK)" if before is None else "version = :v",
        values=None if before is None else {":v": version},
        on_fail=lambda old: on_changed(system_from_item(old).system if old else None),
    )


def get_system(org_id: str, system_id: str) -> Stored | None:
    item = dynamo.get(keys.system_key(org_id, system_id))
    return system_from_item(item) if item else None


def load(org_id: str, system_id: str, product_id: str | None) -> tuple[Stored | None, ProductState | None]:
    """A system and (when its product is known) the org's state of that product, in one read."""
    wanted = [keys.system_key(org_id, system_id)]
    if product_id is not None:
        wanted.append(keys.product_key(org_id, product_id))
    items = dynamo.get_many(wanted)
    system = next((system_from_item(i) for i in items if i["SK"].startswith(keys.SYSTEM_PREFIX)), None)
    state = next((state_from_item(i) for i in items if i["SK"].startswith(keys.PRODUCT_PREFIX)), None)
    return system, state


def list_systems(org_id: str) -> list[System]:
    items = dynamo.query_all(
        {
            "KeyConditionExpression": "PK = :pk AND begins_with(SK, :s)",
            "ExpressionAttributeValues": dynamo.to_attrs({":pk": keys.org_pk(org_id), ":s": keys.SYSTEM_PREFIX}),
            "ConsistentRead": True,
        }
    )
    return [system_from_item(i).system for i in items]


def code_item(code: RegistrationCode) -> Item:
    return {
        **keys.code_key(code.code_hash),
        "type": "registration_code",
        "org_id": code.org_id,
        "created_by": code.created_by,
        "created_at": to_iso(code.created_at),
        "expires_at": to_iso(code.expires_at),
        "ttl": int(code.expires_at.timestamp()) + 7 * 86400,  # kept a week after expiry, then deleted
    }


def code_from_item(item: Item, code_hash: str) -> RegistrationCode:
    return RegistrationCode(
        code_hash=code_hash,
        org_id=item["org_id"],
        created_by=item["created_by"],
        created_at=parse_iso(item["created_at"]),
        expires_at=parse_iso(item["expires_at"]),
        used_by=item.get("used_by"),
    )


def code_put(code: RegistrationCode, also: list[dynamo.TxAction]) -> None:
    dynamo.transact([dynamo.put(code_item(code), condition="attribute_not_exists(PK)"), *also])


def get_code(code_hash: str) -> RegistrationCode | None:
    item = dynamo.get(keys.code_key(code_hash))
    return code_from_item(item, code_hash) if item else None


def code_use(
    code: RegistrationCode, system_id: str, now: datetime, on_refused: Callable[[RegistrationCode | None], Exception]
) -> dynamo.TxAction:
    """For the registration's transaction: the code is used now, by `system_id`, only if it is
    still unused and unexpired."""
    return dynamo.update(
        keys.code_key(code.code_hash),
        "SET used_by = :system, used_at = :now",
        condition="attribute_exists(PK) AND attribute_not_exists(used_by) AND expires_at > :now",
        values={":system": system_id, ":now": to_iso(now)},
        on_fail=lambda old: on_refused(code_from_item(old, code.code_hash) if old else None),
    )

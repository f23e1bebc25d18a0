"""Installed systems as items (shared by the systems store and the org-wide read of the overview)."""

from __future__ import annotations

from dataclasses import dataclass

from license_manager.domain.systems import Kind, System, SystemStatus
from license_manager.domain.timefmt import parse_iso, to_iso
from license_manager.store import keys
from license_manager.store.dynamo import Item

_TIMES = ("created_at", "last_seen_at", "last_license_at", "file_created_at")


def system_item(system: System, version: int) -> Item:
    item: Item = {
        **keys.system_key(system.org_id, system.system_id),
        "type": "system",
        "system_id": system.system_id,
        "org_id": system.org_id,
        "product_id": system.product_id,
        "name": system.name,
        "kind": system.kind.value,
        "devices": system.devices,
        "status": system.status.value,
        "created_by": system.created_by,
        "credential_hash": system.credential_hash,
        "credential_version": system.credential_version,
        "file_nonce": system.file_nonce,
        "version": version,
    }
    for name in _TIMES:
        value = getattr(system, name)
        item[name] = to_iso(value) if value is not None else None
    return {k: v for k, v in item.items() if v is not None}


@dataclass(frozen=True)
class Stored:
    """A system and the version it was read at (0: not stored yet)."""

    system: System
    version: int


def system_from_item(item: Item) -> Stored:
    times = {name: parse_iso(item[name]) for name in _TIMES if name in item}
    system = System(
        system_id=item["system_id"],
        org_id=item["org_id"],
        product_id=item["product_id"],
        name=item["name"],
        kind=Kind(item["kind"]),
        devices=int(item["devices"]),
        status=SystemStatus(item["status"]),
        created_by=item["created_by"],
        credential_hash=item.get("credential_hash"),
        credential_version=int(item.get("credential_version", 0)),
        file_nonce=item.get("file_nonce"),
        created_at=times["created_at"],
        last_seen_at=times["last_seen_at"],
        last_license_at=times.get("last_license_at"),
        file_created_at=times.get("file_created_at"),
    )
    return Stored(system, int(item["version"]))

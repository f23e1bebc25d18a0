"""Single-table key layout (documented with the table in template.yaml).

PK              SK                     item
ORG#<org_id>    ORG                    the organization (name, owner_count)
ORG#<org_id>    MEMBER#<email>         a membership; GSI1: USER#<email> / <name sort key>#<org_id>
ORG#<org_id>    PRODUCT#<product_id>   the org's state of one product (trial, subscription, wallet)
ORG#<org_id>    THROTTLE#redeem        failed redemptions in the current window
HIST#<org_id>   EV#<event_id>          one history event (event ids sort by time)
KEY#<key_id>    KEY                    a license key, by hash
VENDOR          EV#<event_id>          the vendor's own log (keys issued and revoked)
OUTBOX#<n>      <event_id>             a notification waiting to be published to EventBridge
                                       (n: 0-15, from the org and product: OUTBOX_SHARDS)
ANSWER#<hash>   ANSWER                 the answer to a request sent with an Idempotency-Key (24 h)
ORG#<org_id>    SYSTEM#<system_id>     an installed system of the org (name, product, devices, credential hash)
REGCODE#<hash>  CODE                   a registration code (org, expiry, the system it registered)

GSI2 (sparse, write-sharded): activated product states carry GSI2PK = RENEW#<shard>,
GSI2SK = <next_due_at>#<org_id>#<product_id>; the renewal sweep queries what is due per shard.
"""

from __future__ import annotations

import hashlib

ORG_SK = "ORG"
MEMBER_PREFIX = "MEMBER#"
EVENT_PREFIX = "EV#"
PRODUCT_PREFIX = "PRODUCT#"
KEY_SK = "KEY"
THROTTLE_SK = "THROTTLE#redeem"
VENDOR_PK = "VENDOR"
OUTBOX_PREFIX = "OUTBOX#"
# Notifications are spread over this many partitions: one key took every notification of the
# service (about 1,000 writes/s per partition, and each costs 2 transactional WCU + 1 to delete).
OUTBOX_SHARDS = 16
ANSWER_SK = "ANSWER"
SYSTEM_PREFIX = "SYSTEM#"
CODE_SK = "CODE"
RENEWAL_SHARDS = 8


def org_pk(org_id: str) -> str:
    return f"ORG#{org_id}"


def org_key(org_id: str) -> dict[str, str]:
    return {"PK": org_pk(org_id), "SK": ORG_SK}


def prefix_end(prefix: str) -> str:
    """The first sort key after every key that starts with `prefix` ("SYSTEM#" -> "SYSTEM$"), so a
    BETWEEN range can end there; no item has it. In an org's partition the sort keys run
    MEMBER#... < ORG < PRODUCT#... < SYSTEM#... < THROTTLE#redeem: the overview's range
    ORG..prefix_end(SYSTEM#) holds no member."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


def member_key(org_id: str, email: str) -> dict[str, str]:
    return {"PK": org_pk(org_id), "SK": MEMBER_PREFIX + email}


def user_gsi1pk(email: str) -> str:
    return f"USER#{email}"


def user_gsi1sk(org_name: str, org_id: str) -> str:
    """A user's orgs sort by name (case-insensitive), then id; the name part is capped so the key
    stays far below DynamoDB's 1 KB limit whatever the name."""
    return f"{org_name.casefold()[:100]}#{org_id}"


def history_pk(org_id: str) -> str:
    return f"HIST#{org_id}"


def event_sk(event_id: str) -> str:
    return EVENT_PREFIX + event_id


def product_key(org_id: str, product_id: str) -> dict[str, str]:
    return {"PK": org_pk(org_id), "SK": PRODUCT_PREFIX + product_id}


def license_key(key_id: str) -> dict[str, str]:
    return {"PK": f"KEY#{key_id}", "SK": KEY_SK}


def throttle_key(org_id: str) -> dict[str, str]:
    return {"PK": org_pk(org_id), "SK": THROTTLE_SK}


def vendor_event_key(event_id: str) -> dict[str, str]:
    return {"PK": VENDOR_PK, "SK": event_sk(event_id)}


def outbox_shard(org_id: str, product_id: str) -> str:
    """The outbox partition of a subscription's notifications: stable, so one subscription's
    notifications wait in one partition, in the order they were written (their ids sort by time)."""
    digest = hashlib.sha256(f"{org_id}#{product_id}".encode()).digest()
    return f"{OUTBOX_PREFIX}{int.from_bytes(digest[4:8], 'big') % OUTBOX_SHARDS}"


def outbox_shards() -> list[str]:
    return [f"{OUTBOX_PREFIX}{i}" for i in range(OUTBOX_SHARDS)]


def outbox_key(shard: str, event_id: str) -> dict[str, str]:
    return {"PK": shard, "SK": event_id}


def system_key(org_id: str, system_id: str) -> dict[str, str]:
    return {"PK": org_pk(org_id), "SK": SYSTEM_PREFIX + system_id}


def code_key(code_hash: str) -> dict[str, str]:
    return {"PK": f"REGCODE#{code_hash}", "SK": CODE_SK}


def answer_key(scope: str) -> dict[str, str]:
    return {"PK": f"ANSWER#{scope}", "SK": ANSWER_SK}


def renewal_shard(org_id: str, product_id: str) -> str:
    """Spreads due subscriptions over RENEWAL_SHARDS index partitions (no hot partition when many
    renew at the same instant), stable for a given subscription."""
    digest = hashlib.sha256(f"{org_id}#{product_id}".encode()).digest()
    return f"RENEW#{int.from_bytes(digest[:4], 'big') % RENEWAL_SHARDS}"


def renewal_shards() -> list[str]:
    return [f"RENEW#{i}" for i in range(RENEWAL_SHARDS)]

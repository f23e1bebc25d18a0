"""Answers remembered for requests sent with an Idempotency-Key.

ANSWER#<scope>   ANSWER   fingerprint, payload (JSON), sealed (KMS ciphertext or absent), ttl

The answer is written in the same transaction as the change it answers, so a change and its
remembered answer exist together or not at all. `ttl` (epoch seconds) lets DynamoDB's TTL delete
it later; until then an expired answer is ignored when read and may be replaced.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from license_manager.store import dynamo, keys
from license_manager.store.dynamo import Item


@dataclass(frozen=True)
class Answer:
    fingerprint: str
    payload: str
    sealed: bytes | None = None


def _answer(item: Item) -> Answer:
    sealed = item.get("sealed")
    return Answer(item["fingerprint"], item["payload"], bytes(sealed) if sealed is not None else None)


def get(scope: str, now: datetime) -> Answer | None:
    item = dynamo.get(keys.answer_key(scope))
    if item is None or int(item["ttl"]) <= int(now.timestamp()):
        return None
    return _answer(item)


def put(
    scope: str, answer: Answer, now: datetime, expires: datetime, on_taken: Callable[[Answer], Exception]
) -> dynamo.TxAction:
    """For the change's transaction: remember `answer`, unless another one (not expired) already
    is; `on_taken` gets that one and returns the error to raise."""
    item: Item = {
        **keys.answer_key(scope),
        "type": "answer",
        "fingerprint": answer.fingerprint,
        "payload": answer.payload,
        "sealed": answer.sealed,
        "ttl": int(expires.timestamp()),
    }
    return dynamo.put(
        item,
        condition="attribute_not_exists(PK) OR #ttl <= :now",
        names={"#ttl": "ttl"},
        values={":now": int(now.timestamp())},
        on_fail=lambda old: on_taken(_answer(old)) if old else RuntimeError("answer condition failed without an item"),
    )

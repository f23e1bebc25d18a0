"""The DynamoDB client, the table name, error mapping and the transaction helper."""

from __future__ import annotations

import os
import random
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import boto3
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.config import Config
from botocore.exceptions import ClientError

from license_manager.domain.errors import Conflict, DomainError, Unavailable

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

Item = dict[str, Any]

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()

THROTTLE_CODES = frozenset(
    {"ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded", "ThrottlingError"}
)
TX_MAX_ATTEMPTS = 6
OUTCOME_UNKNOWN_CODES = frozenset({"InternalServerError", "ServiceUnavailable"})


@lru_cache(maxsize=1)
def client() -> DynamoDBClient:
    """One client per process (created on first use, reused across invocations).

    botocore's standard retry mode already retries throttling and 5xx with backoff; our own
    loop below only retries transaction conflicts, which botocore treats as final.
    """
    endpoint = os.environ.get("DYNAMODB_ENDPOINT_URL") or None
    config = Config(
        retries={"mode": "standard", "max_attempts": 5},
        connect_timeout=2,
        read_timeout=5,
        tcp_keepalive=True,
    )
    return boto3.client("dynamodb", endpoint_url=endpoint, config=config)


def reset_client() -> None:
    """Forget the cached client (tests switch endpoints and mocks)."""
    client.cache_clear()


def table_name() -> str:
    return os.environ["TABLE_NAME"]


def to_attrs(item: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _serializer.serialize(v) for k, v in item.items() if v is not None}


def from_attrs(attrs: Mapping[str, Any]) -> Item:
    return {k: _plain(_deserializer.deserialize(v)) for k, v in attrs.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def error_code(err: ClientError) -> str:
    return str(err.response.get("Error", {}).get("Code", ""))


def map_client_error(err: ClientError) -> DomainError | None:
    """The one place that turns DynamoDB error codes into domain errors (never by message text).

    Returns None for errors that are faults of ours (bad request, missing table): those
    propagate as they are and become an opaque 500 with the details in the log.
    """
    code = error_code(err)
    if code == "ConditionalCheckFailedException":
        return Conflict("The data changed while the request ran; read it again and retry.")
    if code in THROTTLE_CODES or code in {"TransactionConflictException", "TransactionInProgressException"}:
        return Unavailable("The service is busy; retry in a moment.", retry_after=1)
    if code in {"InternalServerError", "ServiceUnavailable"}:
        return Unavailable("The database is temporarily unavailable; retry in a moment.", retry_after=2)
    return None


def raise_mapped(err: ClientError) -> None:
    mapped = map_client_error(err)
    if mapped is not None:
        raise mapped from err
    raise err


OnConditionFailed = Callable[[Item | None], Exception]


@dataclass
class TxAction:
    """One action of a transaction and what its failed condition means to the user.

    `on_condition_failed` receives the item as it was (ReturnValuesOnConditionCheckFailure=ALL_OLD,
    None if there was none) and returns the domain error to raise.
    """

    kind: str  # "Put" | "Update" | "Delete" | "ConditionCheck"
    params: dict[str, Any]
    on_condition_failed: OnConditionFailed | None = None
    _raw: dict[str, Any] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        params = {"TableName": table_name(), **self.params}
        if "ConditionExpression" in params:
            params["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
        self._raw = {self.kind: params}


def put(
    item: Mapping[str, Any],
    condition: str | None = None,
    on_fail: OnConditionFailed | None = None,
    names: Mapping[str, str] | None = None,
    values: Mapping[str, Any] | None = None,
) -> TxAction:
    params: dict[str, Any] = {"Item": to_attrs(item)}
    _conditioned(params, condition, names, values)
    return TxAction("Put", params, on_fail)


def update(
    key: Mapping[str, Any],
    expression: str,
    *,
    condition: str | None = None,
    names: Mapping[str, str] | None = None,
    values: Mapping[str, Any] | None = None,
    on_fail: OnConditionFailed | None = None,
) -> TxAction:
    params: dict[str, Any] = {"Key": to_attrs(key), "UpdateExpression": expression}
    _conditioned(params, condition, names, values)
    return TxAction("Update", params, on_fail)


def delete(
    key: Mapping[str, Any],
    *,
    condition: str | None = None,
    names: Mapping[str, str] | None = None,
    values: Mapping[str, Any] | None = None,
    on_fail: OnConditionFailed | None = None,
) -> TxAction:
    params: dict[str, Any] = {"Key": to_attrs(key)}
    _conditioned(params, condition, names, values)
    return TxAction("Delete", params, on_fail)


def condition_check(
    key: Mapping[str, Any],
    condition: str,
    *,
    names: Mapping[str, str] | None = None,
    values: Mapping[str, Any] | None = None,
    on_fail: OnConditionFailed | None = None,
) -> TxAction:
    params: dict[str, Any] = {"Key": to_attrs(key)}
    _conditioned(params, condition, names, values)
    return TxAction("ConditionCheck", params, on_fail)


def _conditioned(
    params: dict[str, Any], condition: str | None, names: Mapping[str, str] | None, values: Mapping[str, Any] | None
) -> None:
    if condition:
        params["ConditionExpression"] = condition
    if names:
        params["ExpressionAttributeNames"] = dict(names)
    if values:
        params["ExpressionAttributeValues"] = to_attrs(values)


def transact(actions: Sequence[TxAction], *, sleep: Callable[[float], None] = time.sleep) -> None:
    """Write all actions or none.

    - A failed condition raises the domain error of the action that failed (read from
      CancellationReasons, with the old item), so callers never re-read to explain a refusal.
    - Transaction conflicts and throttling are retried with full-jitter backoff, a bounded number
      of times, then surface as Unavailable (503). A transaction either happened or did not, so
      retrying it never double-counts.
    """
    raw: Any = [a._raw for a in actions]
    # The token stays the same while an attempt's outcome is unknown (a 500: it may have
    # committed, and DynamoDB then answers the retry with success instead of running it again).
    # After an answer that says it did not run (cancelled, throttled), the retry is a new request.
    token = str(uuid.uuid4())
    for attempt in range(1, TX_MAX_ATTEMPTS + 1):
        try:
            client().transact_write_items(TransactItems=raw, ClientRequestToken=token)
            return
        except ClientError as err:
            code = error_code(err)
            if code != "TransactionCanceledException":
                mapped = map_client_error(err)
                if isinstance(mapped, Unavailable) and attempt < TX_MAX_ATTEMPTS:
                    if code not in OUTCOME_UNKNOWN_CODES:
                        token = str(uuid.uuid4())
                    sleep(backoff(attempt))
                    continue
                raise_mapped(err)
            reasons = err.response.get("CancellationReasons") or []
            for action, reason in zip(actions, reasons, strict=False):
                if reason.get("Code") == "ConditionalCheckFailed":
                    old = from_attrs(reason["Item"]) if reason.get("Item") else None
                    if action.on_condition_failed is not None:
                        raise action.on_condition_failed(old) from err
                    raise Conflict("The data changed while the request ran; read it again and retry.") from err
            retryable = {"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded", "None", None}
            if all(r.get("Code") in retryable for r in reasons) and attempt < TX_MAX_ATTEMPTS:
                token = str(uuid.uuid4())  # cancelled: nothing was written
                sleep(backoff(attempt))
                continue
            raise Unavailable("Too many simultaneous changes; retry in a moment.", retry_after=1) from err


def sleep(seconds: float) -> None:
    time.sleep(seconds)


def busy() -> Unavailable:
    return Unavailable("Too many simultaneous changes; retry in a moment.", retry_after=1)


def backoff(attempt: int, base: float = 0.02, cap: float = 1.0) -> float:
    """Full jitter: a random wait in [0, min(cap, base * 2^attempt)]."""
    return random.uniform(0, min(cap, base * (2**attempt)))  # noqa: S311 - jitter, not security


def get(key: Mapping[str, Any]) -> Item | None:
    """One item by key, strongly consistent."""
    try:
        resp = client().get_item(TableName=table_name(), Key=to_attrs(key), ConsistentRead=True)
    except ClientError as err:
        raise_mapped(err)
        raise
    return from_attrs(resp["Item"]) if "Item" in resp else None


def query_page(params: Mapping[str, Any]) -> tuple[list[Item], dict[str, Any] | None]:
    """One page of a query: its items and the key to continue from (None at the end)."""
    try:
        page = client().query(**{"TableName": table_name(), **params})
    except ClientError as err:
        raise_mapped(err)
        raise
    return [from_attrs(i) for i in page.get("Items", [])], page.get("LastEvaluatedKey")


def query_pages(params: Mapping[str, Any]) -> Iterator[list[Item]]:
    """Every page of a query, one at a time (memory stays one page); empty pages are skipped."""
    current = dict(params)
    while True:
        items, last = query_page(current)
        if items:
            yield items
        if last is None:
            return
        current = {**current, "ExclusiveStartKey": last}


def query_all(params: Mapping[str, Any]) -> list[Item]:
    return [item for page in query_pages(params) for item in page]

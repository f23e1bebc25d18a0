"""The DynamoDB client, error mapping, retries within the time budget, and the write helpers.

Every write goes through `transact()` (a single-item write is a transaction of one), so every
write carries a ClientRequestToken: a retry of an attempt whose answer was lost is answered by
DynamoDB with the first attempt's outcome instead of being applied twice. Reads and batch
deletes are idempotent and are simply retried.

Retries are ours, not botocore's (its own retries are off): each one is made only if the time
budget of the invocation (`license_manager.deadline`) still leaves room to answer 503 after it.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotoConnectionError

from license_manager import deadline, settings
from license_manager.domain.errors import Conflict, DomainError, Unavailable
from license_manager.store import aws

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

Item = dict[str, Any]
Key = Mapping[str, str]

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()

MAX_ATTEMPTS = 6
THROTTLE_CODES = frozenset(
    {"ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded", "ThrottlingError"}
)
# the request may have been applied: a retry keeps the transaction's token
OUTCOME_UNKNOWN_CODES = frozenset({"InternalServerError", "ServiceUnavailable"})
RETRYABLE_CODES = (
    THROTTLE_CODES
    | OUTCOME_UNKNOWN_CODES
    | {"TransactionConflictException", "TransactionInProgressException", "LimitExceededException"}
)
# cancellation reasons that mean "nothing was written, try again"
_RETRYABLE_REASONS = frozenset({"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded", "None"})
NETWORK_ERRORS = (BotoConnectionError, HTTPClientError)


@lru_cache(maxsize=1)
def client() -> DynamoDBClient:
    """One client per process (created on first use, reused across invocations). Its retries
    are ours (below), within the time budget."""
    client: DynamoDBClient = aws.client("dynamodb", settings.current().dynamodb_endpoint_url, attempts=1)
    return client


def reset_client() -> None:
    """Forget the cached client (tests switch endpoints and mocks)."""
    client.cache_clear()


def table_name() -> str:
    return settings.current().table_name


def to_attrs(item: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _serializer.serialize(v) for k, v in item.items() if v is not None}


def from_attrs(attrs: Mapping[str, Any]) -> Item:
    return {k: _plain(_deserializer.deserialize(v)) for k, v in attrs.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


# -- errors and retries --------------------------------------------------------------------------


def error_code(err: ClientError) -> str:
    return str(err.response.get("Error", {}).get("Code", ""))


def busy() -> Unavailable:
    return Unavailable("The service is busy; retry in a moment.", retry_after=1)


def map_client_error(err: ClientError) -> DomainError | None:
    """The one place that turns DynamoDB error codes into domain errors (never by message text).

    None for errors that are faults of ours (bad request, missing table): those propagate as
    they are and become an opaque 500 with the details in the log.
    """
    code = error_code(err)
    if code == "ConditionalCheckFailedException":
        return Conflict("The data changed while the request ran; read it again and retry.")
    if code in OUTCOME_UNKNOWN_CODES:
        return Unavailable("The database is temporarily unavailable; retry in a moment.", retry_after=2)
    if code in RETRYABLE_CODES:
        return busy()
    return None


def raise_mapped(err: ClientError) -> None:
    mapped = map_client_error(err)
    if mapped is not None:
        raise mapped from err
    raise err


def backoff(attempt: int, base: float = 0.02, cap: float = 1.0) -> float:
    """Full jitter: a random wait in [0, min(cap, base * 2^attempt)]."""
    return random.uniform(0, min(cap, base * (2**attempt)))  # noqa: S311 - jitter, not security


def may_retry(attempt: int, wait: float, max_attempts: int = MAX_ATTEMPTS) -> bool:
    """Another attempt after `attempt` ones, waiting `wait` first, fits both the attempt limit and
    the invocation's time budget (the wait and the longest call, with room left to answer)."""
    config = settings.current()
    return attempt < max_attempts and deadline.allows(wait + config.call_budget_s, config.answer_margin_ms / 1000)


def retry_pause(attempt: int) -> bool:
    """Wait before attempt `attempt + 1` if it is allowed; False: give up now."""
    wait = backoff(attempt)
    if not may_retry(attempt, wait):
        return False
    deadline.sleep(wait)
    return True


def call(method: str, **params: Any) -> Any:
    """One idempotent call (a read, a batch delete), retried on throttling, 5xx and network
    errors while the budget allows; then 503."""
    attempt = 0
    while True:
        attempt += 1
        try:
            return getattr(client(), method)(**params)
        except ClientError as err:
            if error_code(err) not in RETRYABLE_CODES or not retry_pause(attempt):
                raise_mapped(err)
        except NETWORK_ERRORS as err:
            if not retry_pause(attempt):
                raise busy() from err


# -- transactions ----------------------------------------------------------------------------------

OnConditionFailed = Callable[[Item | None], Exception]


@dataclass
class TxAction:
    """One action of a transaction and what its failed condition means.

    `on_condition_failed` receives the item as it was (ReturnValuesOnConditionCheckFailure=ALL_OLD,
    None if there was none) and returns the exception to raise.
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


def _action(
    kind: str,
    params: dict[str, Any],
    *,
    condition: str | None,
    names: Mapping[str, str] | None,
    values: Mapping[str, Any] | None,
    on_fail: OnConditionFailed | None,
) -> TxAction:
    if condition:
        params["ConditionExpression"] = condition
    if names:
        params["ExpressionAttributeNames"] = dict(names)
    if values:
        params["ExpressionAttributeValues"] = to_attrs(values)
    return TxAction(kind, params, on_fail)


def put(
    item: Mapping[str, Any],
    condition: str | None = None,
    on_fail: OnConditionFailed | None = None,
    names: Mapping[str, str] | None = None,
    values: Mapping[str, Any] | None = None,
) -> TxAction:
    return _action("Put", {"Item": to_attrs(item)}, condition=condition, names=names, values=values, on_fail=on_fail)


def update(
    key: Key,
    expression: str,
    *,
    condition: str | None = None,
    names: Mapping[str, str] | None = None,
    values: Mapping[str, Any] | None = None,
    on_fail: OnConditionFailed | None = None,
) -> TxAction:
    params = {"Key": to_attrs(key), "UpdateExpression": expression}
    return _action("Update", params, condition=condition, names=names, values=values, on_fail=on_fail)


def delete(
    key: Key,
    *,
    condition: str | None = None,
    names: Mapping[str, str] | None = None,
    values: Mapping[str, Any] | None = None,
    on_fail: OnConditionFailed | None = None,
) -> TxAction:
    return _action("Delete", {"Key": to_attrs(key)}, condition=condition, names=names, values=values, on_fail=on_fail)


def condition_check(
    key: Key,
    condition: str,
    *,
    names: Mapping[str, str] | None = None,
    values: Mapping[str, Any] | None = None,
    on_fail: OnConditionFailed | None = None,
) -> TxAction:
    params = {"Key": to_attrs(key)}
    return _action("ConditionCheck", params, condition=condition, names=names, values=values, on_fail=on_fail)


def transact(actions: Sequence[TxAction]) -> None:
    """Write all actions or none (a single action too: every write carries a token).

    - A failed condition raises the error of the action that failed (read from
      CancellationReasons, with the old item), so callers never re-read to explain a refusal.
    - Conflicts, throttling, 5xx and lost answers are retried with full-jitter backoff while the
      budget allows, then surface as Unavailable (503).
    - The token stays the same while an attempt's outcome is unknown (a 5xx or a lost answer: it
      may have committed, and DynamoDB then answers the retry with success instead of running it
      again). After an answer that says nothing was written (cancelled, throttled), the retry is
      a new request with a new token.
    """
    raw: Any = [a._raw for a in actions]
    token = str(uuid.uuid4())
    attempt = 0
    while True:
        attempt += 1
        try:
            client().transact_write_items(TransactItems=raw, ClientRequestToken=token)
            return
        except NETWORK_ERRORS as err:  # the answer is lost: same token
            if not retry_pause(attempt):
                raise busy() from err
            continue
        except ClientError as err:
            code = error_code(err)
            if code == "TransactionCanceledException":
                _raise_refusal(actions, err)
            elif code not in RETRYABLE_CODES:
                raise_mapped(err)
            if not retry_pause(attempt):
                raise busy() from err
            if code not in OUTCOME_UNKNOWN_CODES:
                token = str(uuid.uuid4())  # nothing was written: the retry is a new request


def _raise_refusal(actions: Sequence[TxAction], err: ClientError) -> None:
    """Raise the error of the action whose condition failed; return if the cancellation is one
    to retry (conflict, throttling); raise `busy()` for any other reason."""
    reasons = err.response.get("CancellationReasons") or []
    for action, reason in zip(actions, reasons, strict=False):
        if reason.get("Code") == "ConditionalCheckFailed":
            old = from_attrs(reason["Item"]) if reason.get("Item") else None
            if action.on_condition_failed is not None:
                raise action.on_condition_failed(old) from err
            raise Conflict("The data changed while the request ran; read it again and retry.") from err
    if not all(str(r.get("Code")) in _RETRYABLE_REASONS for r in reasons):
        raise busy() from err


def write(action: TxAction) -> None:
    """One conditional write, with the same guarantees as a transaction."""
    transact([action])


# -- reads and batches -----------------------------------------------------------------------------


def get(key: Key) -> Item | None:
    """One item by key, strongly consistent."""
    resp = call("get_item", TableName=table_name(), Key=to_attrs(key), ConsistentRead=True)
    return from_attrs(resp["Item"]) if "Item" in resp else None


def get_many(requested: Sequence[Key]) -> list[Item]:
    """Items by key in one consistent BatchGetItem (repeated only for keys left unprocessed)."""
    table = table_name()
    request: Any = {table: {"Keys": [to_attrs(k) for k in requested], "ConsistentRead": True}}
    found: list[Item] = []
    attempt = 0
    while request:
        attempt += 1
        resp = call("batch_get_item", RequestItems=request)
        found.extend(from_attrs(i) for i in resp.get("Responses", {}).get(table, []))
        request = resp.get("UnprocessedKeys") or {}
        if request and not retry_pause(attempt):
            raise busy()
    return found


def delete_many(keys: Sequence[Key]) -> None:
    """Delete items (idempotent), 25 per BatchWriteItem, retrying what DynamoDB left unprocessed."""
    table = table_name()
    for start in range(0, len(keys), 25):
        request: Any = {table: [{"DeleteRequest": {"Key": to_attrs(k)}} for k in keys[start : start + 25]]}
        attempt = 0
        while request:
            attempt += 1
            request = call("batch_write_item", RequestItems=request).get("UnprocessedItems") or {}
            if request and not retry_pause(attempt):
                raise busy()


def query_page(params: Mapping[str, Any]) -> tuple[list[Item], dict[str, Any] | None]:
    """One page of a query: its items and the key to continue from (None at the end)."""
    page = call("query", **{"TableName": table_name(), **params})
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

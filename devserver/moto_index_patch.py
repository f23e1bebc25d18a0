"""Make what moto 5.2.5's DynamoDB reads cost what it reads: two patches applied by
`devserver/moto_patches.py::apply()`. Measured by bench/sweep.py.

1. A Query on a global secondary index reads its index partition, not the whole table sorted.

What moto does (paths under moto/): `dynamodb/models/table.py:749` `Table.query` with an
`index_name` walks `self.all_items()` (lines 994-1005): every item of the table, sorted by the
table's keys, O(T log T) for a table of T items. Only then (lines 846-884) does it keep the items
whose index hash key is the one asked for, and sort those by the index keys (`sorted_items`,
lines 1190-1202). So every page of the renewal sweep's GSI2 query sorted the whole table: at
10,000 due subscriptions (30,000 items with their history and notifications) that was most of the
sweep's time on the embedded DynamoDB (bench/sweep.py), while DynamoDB reads only the page.

What `apply()` changes: moto's own `Table.query` still runs, unchanged, for an index query on a
view of the table whose `all_items()` is only the items carrying the hash key value(s) asked for,
unsorted (the index branch sorts what it keeps by the index keys itself, and checks the hash key
again). moto keeps no index, so finding them is still one pass over the table, but a cheap one (an
attribute compared per item, no sort). The answer is the same: the same items, in the same order,
with the same `ScannedCount` and `LastEvaluatedKey`. Queries on the table itself are left to
`moto_patches` (one partition), scans to moto.

2. Items read are answered as JSON as they are. moto 5.2.5 turns every answer into the wire
format with its generic, shape-driven serializer (`core/serialize.py`, `BaseJSONSerializer`),
which walks every attribute value of every item as an `AttributeValue` structure of ten possible
members: about 1 ms per state item read on this machine, three times the cost of the transaction
that writes it, so a benchmark of reads against writes measured moto's serializer. A read's answer
(`dynamodb/responses.py` `DynamoResult`, after `dynamo_to_dict`) is already DynamoDB's JSON
(`{"S": ...}`, `{"N": "..."}`, lists and maps): `execute_result` dumps it as it is. Anything else
(descriptions of tables with timestamps, binary values, which `dynamo_to_dict` makes bytes) goes
through moto's serializer as before.
"""

from __future__ import annotations

import functools
import inspect
import json
from collections.abc import Callable, Iterator
from typing import Any

from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.table import Table
from moto.dynamodb.responses import DynamoResult

# the members of read answers, all plain DynamoDB JSON once `dynamo_to_dict` has run
_READ_ANSWER = frozenset(
    {"Item", "Items", "Count", "ScannedCount", "LastEvaluatedKey", "Responses", "UnprocessedKeys", "ConsumedCapacity"}
)
CONTENT_TYPE = "application/x-amz-json-1.0"  # DynamoDB's protocol: JSON 1.0


@functools.cache  # once per process: calling it again does nothing
def apply() -> None:
    Table.query = index_partition_query(Table.query)  # type: ignore[method-assign]
    DynamoResult.execute_result = plain_json_reads(DynamoResult.execute_result)  # type: ignore[method-assign]


def plain_json_reads(execute_result: Callable[..., Any]) -> Callable[..., Any]:
    """`execute_result` (moto's `DynamoResult.execute_result`), answering reads with their JSON."""

    @functools.wraps(execute_result)
    def plain(self: DynamoResult, context: Any) -> Any:
        result = self.result
        if isinstance(result, dict) and result.keys() <= _READ_ANSWER:
            try:
                return 200, {"Content-Type": CONTENT_TYPE}, json.dumps(result)
            except TypeError:  # bytes (binary attributes): moto's serializer encodes them
                pass
        return execute_result(self, context)

    return plain


class _IndexPartition:
    """A table as `Table.query` sees it, whose `all_items()` holds only the items with the given
    values of the index's hash key attributes."""

    def __init__(self, table: Any, conditions: list[tuple[str, DynamoType]]) -> None:
        self._table = table
        self._conditions = conditions

    def __getattr__(self, name: str) -> Any:
        return getattr(self._table, name)

    def all_items(self) -> list[Item]:
        return [item for item in _items(self._table) if self._matches(item)]

    def _matches(self, item: Any) -> bool:
        if not isinstance(item, Item):
            return False
        for name, value in self._conditions:
            found = item.attrs.get(name)
            if found is None or found != value:
                return False
        return True


def _items(table: Any) -> Iterator[Any]:
    """Every item of the table, in storage order (no sort)."""
    for partition in list(table.items.values()):
        if table.range_key_attr is not None:
            yield from list(partition.values())
        else:
            yield partition


def index_partition_query(query: Callable[..., Any]) -> Callable[..., Any]:
    """`query` (moto's `Table.query`, or a wrapper of it), running an index query on the items of
    the index partition asked for only."""
    signature = inspect.signature(query)

    @functools.wraps(query)
    def index_query(self: Table, *args: Any, **kwargs: Any) -> Any:
        call = signature.bind(self, *args, **kwargs).arguments
        conditions = call.get("hash_key_conditions")
        if not call.get("index_name") or not conditions:
            return query(self, *args, **kwargs)
        return query(_IndexPartition(self, list(conditions)), *args, **kwargs)

    return index_query

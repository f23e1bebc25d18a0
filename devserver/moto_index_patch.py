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
unsorted (the index branch sorts what it keeps by the index keys itself, with the table's keys
last, so the order is total, and checks the hash key again). Those items are found through an
index the patch keeps per table, as DynamoDB keeps its indexes: for each GSI hash key attribute,
value -> the keys of the items carrying it. Every way an item gains or changes an attribute goes
through `Table.put_item` (puts, batch writes, transactions, the first write of an UpdateItem) or
`DynamoDBBackend.update_item` (in place), both wrapped to note the item, or through a
transaction's undo (`moto_patches`), which notes what it puts back. What leaves a partition
(deletes, an update or put that moves the item) is dropped when a query next finds the key gone
or carrying another value; a table whose storage was replaced (restored from a backup) or whose
indexes changed is indexed again from scratch. So a query costs what its partition holds, never
what the table holds. The answer is the same: the same items, in the same order, with the same
`ScannedCount` and `LastEvaluatedKey` (tests/integration/test_moto_index_patch.py compares them
after random writes). Queries on the table itself are left to `moto_patches` (one partition),
scans to moto.

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

import bisect
import functools
import inspect
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from moto.dynamodb.models import DynamoDBBackend
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
    Table.put_item = noting_puts(Table.put_item)  # type: ignore[method-assign]
    DynamoDBBackend.update_item = noting_updates(DynamoDBBackend.update_item)  # type: ignore[method-assign]
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


Key = tuple[DynamoType, DynamoType | None]  # an item's table keys (hash, range)
_INDEX = "_license_manager_partition_index"  # where a table's index is kept, on the table


class PartitionIndex:
    """For one table: for each GSI hash key attribute, value -> the keys of the items carrying it
    (a dict used as an ordered set). It may hold keys that have since left (found and dropped by
    `items_with`), never miss one that is there, provided every write is `note`d."""

    def __init__(self, table: Any) -> None:
        self.storage = table.items  # the dict it indexes: replaced storage means indexing again
        self.names = _hash_names(table)
        self.keys: dict[str, dict[DynamoType, dict[Key, None]]] = {name: {} for name in self.names}
        for item in _items(table):
            self.note(item)

    def note(self, item: Any) -> None:
        if not isinstance(item, Item):
            return
        key = (item.hash_key, item.range_key)
        for name in self.names:
            value = item.attrs.get(name)
            if value is not None:
                self.keys[name].setdefault(value, {})[key] = None

    def items_with(self, table: Any, name: str, value: DynamoType) -> list[Item]:
        """The items whose attribute `name` is `value` now; keys that left are dropped."""
        keys = self.keys[name].get(value)
        if not keys:
            return []
        found: list[Item] = []
        plain = _plain(value)
        for key in list(keys):
            item = _stored(table, key)
            current = None if item is None else item.attrs.get(name)
            if item is None or current is None or _plain(current) != plain:
                del keys[key]
            else:
                found.append(item)
        if not keys:
            del self.keys[name][value]
        return found


def _plain(value: DynamoType) -> Any:
    """What moto compares and orders a key attribute by (`cast_value`), quickly for strings and
    binary (themselves); the type goes with it, as moto's equality compares it too."""
    return (value.type, value.value if value.type in ("S", "B") else value.cast_value)


def _hash_names(table: Any) -> frozenset[str]:
    return frozenset(
        key["AttributeName"] for index in table.global_indexes or [] for key in index.schema if key["KeyType"] == "HASH"
    )


def _stored(table: Any, key: Key) -> Item | None:
    hash_key, range_key = key
    partition: Any = table.items.get(hash_key)
    if partition is None or range_key is None:
        return partition if isinstance(partition, Item) else None
    found = partition.get(range_key)
    return found if isinstance(found, Item) else None


def index_of(table: Any) -> PartitionIndex:
    """The table's index, built (again) if it has none, or its storage or indexes changed."""
    index: PartitionIndex | None = table.__dict__.get(_INDEX)
    if index is None or index.storage is not table.items or index.names != _hash_names(table):
        index = PartitionIndex(table)
        table.__dict__[_INDEX] = index
    return index


def note(table: Any, item: Any) -> None:
    """`item` was just written to `table` (a put, an update in place, an undo putting it back)."""
    index: PartitionIndex | None = table.__dict__.get(_INDEX)
    if index is not None and index.storage is table.items:
        index.note(item)  # else: indexed from scratch at the next index query


def noting_puts(put_item: Callable[..., Item]) -> Callable[..., Item]:
    """`put_item` (moto's `Table.put_item`), noting the item it stored."""

    @functools.wraps(put_item)
    def put_noted(self: Table, *args: Any, **kwargs: Any) -> Item:
        item = put_item(self, *args, **kwargs)
        note(self, item)
        return item

    return put_noted


def noting_updates(update_item: Callable[..., Item]) -> Callable[..., Item]:
    """`update_item` (moto's `DynamoDBBackend.update_item`, which changes the item in place),
    noting the item it updated."""

    @functools.wraps(update_item)
    def update_noted(self: DynamoDBBackend, table_name: str, *args: Any, **kwargs: Any) -> Item:
        item = update_item(self, table_name, *args, **kwargs)
        note(self.get_table(table_name), item)
        return item

    return update_noted


@dataclass(frozen=True)
class _KeyRange:
    """An index's range key attributes, in order, and the page asked for, when it can be found
    by position (None: moto walks the partition itself)."""

    names: list[str]
    page: _Page | None

    def indexed(self, item: Item) -> bool:
        """As moto: an item without every range key attribute is not in the index."""
        return all(item.attrs.get(name) for name in self.names)

    def order(self, item: Item) -> tuple[Any, ...]:
        """moto's order for an index with range keys (its range keys, then the table's keys), on
        plain values: sorted this way first, moto's own sort of DynamoType values is one pass."""
        table_range = _plain(item.range_key) if item.range_key is not None else 0
        return (*(_plain(item.attrs[name]) for name in self.names), _plain(item.hash_key), table_range)


@dataclass(frozen=True)
class _Page:
    """A page of a query on an index with one range key, as moto's loop reads it: the items
    after the start (the order of the ExclusiveStartKey, if any), in the query's direction,
    until `limit` of them meet the key condition on the range key, then one more item (at which
    moto stops on its Limit and answers a LastEvaluatedKey)."""

    name: str  # the range key attribute
    comparison: str | None
    values: list[DynamoType]
    start: tuple[Any, ...] | None
    forward: bool
    limit: int

    def of(self, ordered: list[Item], keys: list[tuple[Any, ...]]) -> list[Item]:
        """The slice of `ordered` (ascending; `keys` their order) that moto's loop walks."""
        if self.forward:
            first = 0 if self.start is None else bisect.bisect_right(keys, self.start)
            stop = self._stop(ordered, range(first, len(ordered)))
            return ordered[first : len(ordered) if stop is None else stop + 1]
        end = len(ordered) if self.start is None else bisect.bisect_left(keys, self.start)
        stop = self._stop(ordered, range(end - 1, -1, -1))
        return ordered[0 if stop is None else stop : end]

    def _stop(self, ordered: list[Item], positions: range) -> int | None:
        """Where moto stops: the item after `limit` items meeting the condition (None: the end)."""
        taken = 0
        for at in positions:
            if taken == self.limit:
                return at
            item = ordered[at]
            taken += self.comparison is None or bool(item.attrs[self.name].compare(self.comparison, self.values))
        return None


class _IndexPartition:
    """A table as `Table.query` sees it, whose `all_items()` holds only the items with the given
    values of the index's hash key attributes, in the index's order; for a page of an index with
    one range key, only the items moto's loop walks for that page (DynamoDB reads only those:
    moto would walk the others, sorted, to skip them)."""

    def __init__(self, table: Any, conditions: list[tuple[str, DynamoType]], key_range: _KeyRange | None) -> None:
        self._table = table
        self._conditions = conditions
        self._range = key_range

    def __getattr__(self, name: str) -> Any:
        return getattr(self._table, name)

    def all_items(self) -> list[Item]:
        index = index_of(self._table)
        indexed = next(((name, value) for name, value in self._conditions if name in index.names), None)
        if indexed is None:  # a local index: one pass over the table
            candidates: Iterable[Any] = _items(self._table)
        else:
            candidates = index.items_with(self._table, *indexed)  # the value checked already
        found = (
            list(candidates) if len(self._conditions) == 1 and indexed else [c for c in candidates if self._matches(c)]
        )
        if self._range is None:
            return found
        ordered = sorted(((self._range.order(item), item) for item in found if self._range.indexed(item)), key=_first)
        items = [item for _, item in ordered]
        if self._range.page is None:
            return items
        return self._range.page.of(items, [key for key, _ in ordered])

    def _matches(self, item: Any) -> bool:
        if not isinstance(item, Item):
            return False
        for name, value in self._conditions:
            found = item.attrs.get(name)
            if found is None or found != value:
                return False
        return True


def _first(pair: tuple[tuple[Any, ...], Item]) -> tuple[Any, ...]:
    return pair[0]


def _key_range(table: Table, call: dict[str, Any]) -> _KeyRange | None:
    """The index's range keys and the page asked for; None for an index without range keys, or
    an unknown one (moto answers with its own error)."""
    try:
        index = table.get_index(call["index_name"])
    except Exception:
        return None
    names = [key["AttributeName"] for key in index.schema if key["KeyType"] == "RANGE"]
    return _KeyRange(names, _page(table, names, call)) if names else None


def _page(table: Table, names: list[str], call: dict[str, Any]) -> _Page | None:
    """The page asked for, if moto's answer follows from position alone: one range key with at
    most one condition, a Limit, no legacy QueryFilter (which moto counts against the Limit), a
    start key carrying every key attribute. Else None."""
    limit, start = call.get("limit"), call.get("exclusive_start_key")
    if len(names) != 1 or len(call.get("range_key_conditions") or []) > 1 or not limit or call.get("filter_kwargs"):
        return None
    key = None
    if start is not None:
        attrs = [*names, table.hash_key_attr, table.range_key_attr]
        if any(attr is not None and attr not in start for attr in attrs):
            return None
        key = tuple(_plain(DynamoType(start[attr])) if attr is not None else 0 for attr in attrs)
    comparison = call.get("range_comparison") or None
    values = list(call.get("range_objs") or [])
    return _Page(names[0], comparison, values, key, call.get("scan_index_forward") is not False, int(limit))


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
        return query(_IndexPartition(self, list(conditions), _key_range(self, call)), *args, **kwargs)

    return index_query

"""Make moto 5.2.5's DynamoDB cost per call what the call touches, not what the table holds.

What moto does (paths under moto/):

- `dynamodb/models/__init__.py:604-716` `transact_write_items` deep-copies the whole `Table`, every
  item of it, once per action (lines 607-615), before running them; on failure it puts the copy
  back in `self.tables` (lines 701-705, 712-716). Three actions on a table of 5,000 items copy
  15,000 items: the time of a transaction grows with the table.
- `core/common_models.py:8-15` `BaseModel.__new__` appends every model instance to a list of its
  class, `instances_tracked`, for the dashboard (`moto_api/_internal/responses.py:52-78`). Only
  `mock_aws()` empties it when it stops; the moto server never does. `Item` is such a model and
  `Item.__deepcopy__` (`dynamodb/models/dynamo_type.py:348-367`) makes its copies with `__new__`.
  So every copy above stays in memory for good (tens of MB for a few writes), and so does every
  item replaced by a write, every old item `UpdateItem` copies (`models/__init__.py:474`,
  `responses.py:1263`) and every Query/Scan result, which moto copies (`models/table.py:981`,
  `1140-1142`). SQS `Message` (`sqs/models.py:77`) is tracked the same way: every notification
  the dev server ever queued stays in memory.
- `dynamodb/models/table.py:889-893` `Table.query` on the table itself (no index) looks for its
  partition among `all_items()` (lines 994-1005): all items of the table, sorted.
- `dynamodb/models/table.py:722` `Table.get_item` of a missing partition adds it, empty, to the
  `items` defaultdict: one more entry for every key ever looked up and not found.

What `apply()` changes:

1. `Item` and `Message` are not tracked. Only the dashboard reads those lists (where an `Item`
   shows nothing anyway: none of its attributes is JSON).
2. A transaction saves a copy of each item it names before it runs and puts those copies back
   if it fails. moto's own `transact_write_items` still runs, unchanged, except that its
   whole-table copy is the table itself (its module's `copy.deepcopy` returns a `Table` as is;
   that is the only `Table` it copies), so its "restore" does nothing and ours does the work.
   That is the same as restoring the whole table: an action can only change the item it names
   (its key, checked by `get_keys_value` as moto does before writing anything) and the table's
   stream records, restored too. All else is moto's code as it was: each condition is evaluated
   before any other action touched its item (the same item twice is refused), `CancellationReasons`
   come in action order, with the `ALL_OLD` item, and the errors are the same. Indexes are not
   stored apart (a GSI query reads the items), so they come back with the items. One difference:
   moto keeps the actions run before a `TransactWriteSingleOpException` (an action with two
   operations, lines 631-632); here they are undone too, as DynamoDB writes all or nothing.
3. A Query on the table itself reads only its partition: moto's `Table.query` runs, unchanged,
   on a view of the table whose `all_items()` is that partition. moto keeps only the items with
   that hash key and sorts them by range key, so the answer is the same. A Query on an index
   still reads every item (moto keeps no index), and a Scan does too, as in DynamoDB.
4. `Table.get_item` answers None for a missing partition without adding it.
5. Index queries read only the items of the index partition asked for, and reads are answered as
   the JSON they are: `devserver/moto_index_patch.py`.
"""

from __future__ import annotations

import copy
import functools
import inspect
import types
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import moto
from moto.dynamodb import models as dynamodb_models
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.table import StreamRecord, StreamShard, Table
from moto.sqs.models import Message

from devserver import moto_index_patch

MOTO_VERSION = "5.2.5"  # the version the line numbers above, and the reasoning, are about


@functools.cache  # once per process: calling it again does nothing
def apply() -> None:
    if moto.__version__ != MOTO_VERSION:
        raise RuntimeError(f"devserver/moto_patches.py is written for moto {MOTO_VERSION}, not {moto.__version__}")
    for model in (Item, Message):
        model.__new__ = staticmethod(_untracked_new)  # type: ignore[method-assign]
    dynamodb_models.copy = types.SimpleNamespace(deepcopy=_deepcopy_but_tables)  # type: ignore[attr-defined,assignment]
    DynamoDBBackend.transact_write_items = _undoing_on_failure(DynamoDBBackend.transact_write_items)  # type: ignore[method-assign]
    Table.query = _one_partition_when_possible(Table.query)  # type: ignore[method-assign]
    Table.get_item = _not_adding_partitions(Table.get_item)  # type: ignore[method-assign]
    moto_index_patch.apply()  # index queries and read answers: see devserver/moto_index_patch.py


def _untracked_new(cls: type[Any], *_args: Any, **_kwargs: Any) -> Any:
    return object.__new__(cls)


def _deepcopy_but_tables(value: Any, memo: dict[int, Any] | None = None) -> Any:
    return value if isinstance(value, Table) else copy.deepcopy(value, memo)


@dataclass
class _SavedItem:
    table: Table
    hash_key: DynamoType
    range_key: DynamoType | None
    partition_existed: bool
    item: Item | None  # a copy: UpdateItem changes the stored item in place

    @classmethod
    def save(cls, table: Table, hash_key: DynamoType, range_key: DynamoType | None) -> _SavedItem:
        partition: Any = table.items.get(hash_key)  # an Item, or {range key: Item} if there is a range key
        item = partition if range_key is None or partition is None else partition.get(range_key)
        return cls(table, hash_key, range_key, partition is not None, copy.deepcopy(item))

    def restore(self) -> None:
        items: Any = self.table.items
        if self.range_key is None:
            items.pop(self.hash_key, None)
            if self.item is not None:
                items[self.hash_key] = self.item
        elif self.item is not None:
            items[self.hash_key][self.range_key] = self.item
        elif (partition := items.get(self.hash_key)) is not None:
            partition.pop(self.range_key, None)
            if not partition and not self.partition_existed:
                del items[self.hash_key]
        if self.item is not None:
            moto_index_patch.note(self.table, self.item)  # still in its index partition: made sure


@dataclass
class _SavedStream:
    shard: StreamShard
    records: list[StreamRecord]
    count: int

    def restore(self) -> None:
        del self.records[self.count :]
        self.shard.items = self.records


def _save(backend: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> list[_SavedItem | _SavedStream]:
    """A copy of each item the transaction names, and where each stream of their tables ends."""
    items: list[_SavedItem | _SavedStream] = []
    streams: dict[int, _SavedStream] = {}
    for action in transact_items:
        for kind, op in action.items():
            try:
                table = backend.get_table(op["TableName"])
                hash_key, range_key = backend.get_keys_value(table, op["Item"] if kind == "Put" else op["Key"])
            except Exception:  # noqa: S112 - moto refuses this action before writing anything
                continue
            items.append(_SavedItem.save(table, hash_key, range_key))
            if (shard := table.stream_shard) is not None:
                streams.setdefault(id(shard), _SavedStream(shard, shard.items, len(shard.items)))
    return items + list(streams.values())


def _undoing_on_failure(transact: Callable[..., None]) -> Callable[..., None]:
    @functools.wraps(transact)
    def transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
        saved = _save(self, transact_items)
        try:
            transact(self, transact_items)
        except BaseException:
            for one in reversed(saved):
                one.restore()
            raise

    return transact_write_items


class _OnePartition:
    """A table as `Table.query` sees it, with one partition for `all_items()`."""

    def __init__(self, table: Table, hash_key: DynamoType) -> None:
        self._table = table
        self._hash_key = hash_key

    def __getattr__(self, name: str) -> Any:
        return getattr(self._table, name)

    def all_items(self) -> list[Item]:
        partition: Any = self._table.items.get(self._hash_key)
        if partition is None:
            return []
        return list(partition.values()) if self._table.range_key_attr is not None else [partition]


def _one_partition_when_possible(query: Callable[..., Any]) -> Callable[..., Any]:
    signature = inspect.signature(query)

    @functools.wraps(query)
    def one_partition_query(self: Table, *args: Any, **kwargs: Any) -> Any:
        call = signature.bind(self, *args, **kwargs).arguments
        if call.get("index_name") or call["hash_key"] is None:
            return query(self, *args, **kwargs)
        return query(_OnePartition(self, call["hash_key"]), *args, **kwargs)

    return one_partition_query


def _not_adding_partitions(get_item: Callable[..., Item | None]) -> Callable[..., Item | None]:
    @functools.wraps(get_item)
    def get_item_not_adding(self: Table, hash_key: DynamoType, range_key: Any = None, *args: Any) -> Item | None:
        if range_key is not None and hash_key not in self.items:
            return None  # as moto answers, without `self.items[hash_key]` adding an empty partition
        return get_item(self, hash_key, range_key, *args)

    return get_item_not_adding

"""moto as patched by devserver/moto_patches.py (applied by tests/conftest.py): flat memory, work
that does not grow with the table, and DynamoDB's all-or-nothing transactions as moto had them."""

from __future__ import annotations

import gc
import tracemalloc
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.table import Table

from devserver import moto_patches

REGION = "eu-north-1"
MB = 1024 * 1024


def ddb() -> Any:
    return boto3.client("dynamodb", region_name=REGION)


def key(pk: str, sk: str) -> dict[str, Any]:
    return {"PK": {"S": pk}, "SK": {"S": sk}}


def put_all(table: str, items: list[dict[str, Any]]) -> None:
    for start in range(0, len(items), 25):
        batch = [{"PutRequest": {"Item": item}} for item in items[start : start + 25]]
        ddb().batch_write_item(RequestItems={table: batch})


def seed(table: str, count: int, per_partition: int = 20) -> None:
    """`count` items, `per_partition` of them in each partition (P0, P1...) and GSI1 value (G0, G1...)."""
    partitions = max(1, count // per_partition)
    items = [
        {
            **key(f"P{i % partitions}", f"S{i:05}"),
            "GSI1PK": {"S": f"G{i % partitions}"},
            "GSI1SK": {"S": f"S{i:05}"},
            "body": {"S": "x" * 100},
        }
        for i in range(count)
    ]
    put_all(table, items)


def write(client: Any, table: str, i: int) -> None:
    """One transaction of three actions; every 10th fails its last condition."""
    client.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": table, "Item": {**key("W", f"W{i % 10}"), "n": {"N": str(i)}}}},
            {
                "Update": {
                    "TableName": table,
                    "Key": key("COUNTER", "C"),
                    "UpdateExpression": "ADD n :one",
                    "ExpressionAttributeValues": {":one": {"N": "1"}},
                }
            },
            {
                "ConditionCheck": {
                    "TableName": table,
                    "Key": key("P1", "S00001"),
                    "ConditionExpression": "attribute_not_exists(PK)" if i % 10 == 0 else "attribute_exists(PK)",
                }
            },
        ]
    )


def write_or_cancel(client: Any, table: str, i: int) -> None:
    if i % 10:
        write(client, table, i)
        return
    with pytest.raises(ClientError, match="TransactionCanceledException"):
        write(client, table, i)


def items_copied_by(action: Callable[[], object], monkeypatch: pytest.MonkeyPatch) -> int:
    copies = 0
    original = Item.__deepcopy__

    def counting(self: Item, memo: dict[int, Any]) -> Item:
        nonlocal copies
        copies += 1
        return original(self, memo)

    with monkeypatch.context() as patched:
        patched.setattr(Item, "__deepcopy__", counting)
        action()
    return copies


def key_comparisons_by(action: Callable[[], object], monkeypatch: pytest.MonkeyPatch) -> int:
    """How many times moto compares two attribute values (what it does for each item it looks at)."""
    comparisons = 0
    equal, less = DynamoType.__eq__, DynamoType.__lt__

    def counting_eq(self: DynamoType, other: DynamoType) -> bool:
        nonlocal comparisons
        comparisons += 1
        return equal(self, other)

    def counting_lt(self: DynamoType, other: DynamoType) -> bool:
        nonlocal comparisons
        comparisons += 1
        return less(self, other)

    with monkeypatch.context() as patched:
        patched.setattr(DynamoType, "__eq__", counting_eq)
        patched.setattr(DynamoType, "__lt__", counting_lt)
        action()
    return comparisons


def test_memory_stays_flat_over_many_transactions(table: str) -> None:
    # Given a table of 300 items and 200 transactions already written (some of them cancelled)
    seed(table, 300)
    client = ddb()
    for i in range(200):
        write_or_cancel(client, table, i)
    gc.collect()
    tracemalloc.start()
    try:
        start = tracemalloc.get_traced_memory()[0]
        # When 1,800 more are written
        for i in range(200, 2_000):
            write_or_cancel(client, table, i)
            if i % 200 == 199:
                gc.collect()
                grown = tracemalloc.get_traced_memory()[0] - start
                # Then memory hardly grows (unpatched moto keeps ~1 MB per transaction here)
                assert grown < 2 * MB, f"{grown / MB:.1f} MB more after {i + 1} writes"
    finally:
        tracemalloc.stop()


def test_a_failed_condition_writes_nothing_and_reports_the_old_item(table: str) -> None:
    # Given three items, one in GSI1 and one in GSI2
    client = ddb()
    a = {**key("A", "A"), "GSI1PK": {"S": "G-old"}, "GSI1SK": {"S": "A"}, "n": {"N": "1"}}
    b = {**key("B", "B"), "GSI2PK": {"S": "H"}, "GSI2SK": {"S": "B"}}
    c = {**key("C", "C"), "n": {"N": "7"}}
    for item in (a, b, c):
        client.put_item(TableName=table, Item=item)
    before = client.scan(TableName=table)["Items"]

    # When a transaction moves A in GSI1, deletes B, puts C only if absent (it is not), and adds D
    with pytest.raises(ClientError) as raised:
        client.transact_write_items(
            TransactItems=[
                {
                    "Update": {
                        "TableName": table,
                        "Key": key("A", "A"),
                        "UpdateExpression": "SET GSI1PK = :new, n = n + :one",
                        "ExpressionAttributeValues": {":new": {"S": "G-new"}, ":one": {"N": "1"}},
                    }
                },
                {"Delete": {"TableName": table, "Key": key("B", "B")}},
                {
                    "Put": {
                        "TableName": table,
                        "Item": {**key("C", "C"), "n": {"N": "8"}},
                        "ConditionExpression": "attribute_not_exists(PK)",
                        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                    }
                },
                {
                    "Put": {
                        "TableName": table,
                        "Item": {**key("D", "D"), "GSI1PK": {"S": "G-new"}, "GSI1SK": {"S": "D"}},
                    }
                },
            ]
        )

    # Then it is cancelled with the reasons in action order, the 3rd with C as it was
    response = raised.value.response
    assert response["Error"]["Code"] == "TransactionCanceledException"
    reasons = response["CancellationReasons"]
    assert [r["Code"] for r in reasons] == ["None", "None", "ConditionalCheckFailed", "None"]
    assert reasons[2]["Item"] == c
    # And nothing was written: the items, GSI1 and GSI2 are as before
    assert client.scan(TableName=table)["Items"] == before

    def gsi(index: str, name: str, value: str) -> list[dict[str, Any]]:
        return list(
            client.query(
                TableName=table,
                IndexName=index,
                KeyConditionExpression=f"{name} = :v",
                ExpressionAttributeValues={":v": {"S": value}},
            )["Items"]
        )

    assert gsi("GSI1", "GSI1PK", "G-old") == [a]
    assert gsi("GSI1", "GSI1PK", "G-new") == []
    assert gsi("GSI2", "GSI2PK", "H") == [{k: b[k] for k in ("PK", "SK", "GSI2PK", "GSI2SK")}]


def test_the_same_item_twice_is_still_refused_and_writes_nothing(table: str) -> None:
    # Given an item
    client = ddb()
    client.put_item(TableName=table, Item={**key("A", "A"), "n": {"N": "1"}})
    add_one = {
        "TableName": table,
        "Key": key("A", "A"),
        "UpdateExpression": "ADD n :one",
        "ExpressionAttributeValues": {":one": {"N": "1"}},
    }
    # When a transaction names it twice
    with pytest.raises(ClientError) as raised:
        client.transact_write_items(TransactItems=[{"Update": add_one}, {"Update": add_one}])
    # Then it is refused, as moto did, and the item is unchanged
    assert raised.value.response["Error"]["Code"] == "ValidationException"
    assert client.get_item(TableName=table, Key=key("A", "A"))["Item"]["n"] == {"N": "1"}


@pytest.mark.parametrize("size", [100, 5_000])
def test_a_transaction_copies_only_the_items_it_names(table: str, size: int, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a table of `size` items
    seed(table, size)
    client = ddb()
    # When a transaction of three actions runs, and one that is cancelled
    written = items_copied_by(lambda: write_or_cancel(client, table, 1), monkeypatch)
    cancelled = items_copied_by(lambda: write_or_cancel(client, table, 10), monkeypatch)
    # Then moto copied a few items (one per action, and the updated one), not the table
    assert written <= 4
    assert cancelled <= 4


def test_a_query_looks_at_its_partition_only(table: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a table of 100 items, then of 5,100, with the same 20 items in the partition queried
    client = ddb()

    def query() -> None:
        items = client.query(
            TableName=table,
            KeyConditionExpression="PK = :p",
            ExpressionAttributeValues={":p": {"S": "P3"}},
        )["Items"]
        assert len(items) == 20

    seed(table, 100)
    small = key_comparisons_by(query, monkeypatch)
    put_all(table, [key(f"OTHER{i}", "S") for i in range(5_000)])
    large = key_comparisons_by(query, monkeypatch)
    # Then the Query did the same work on both
    assert large == small


def test_applying_twice_patches_once() -> None:
    # Given the patches applied (by tests/conftest.py)
    # When they are applied again
    moto_patches.apply()
    # Then moto's functions are wrapped once by each patch (one partition; an index's partition)
    query = vars(Table)["query"]
    depth = 0
    while hasattr(query, "__wrapped__"):
        query, depth = query.__wrapped__, depth + 1
    assert depth == 2

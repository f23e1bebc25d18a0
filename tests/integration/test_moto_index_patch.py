"""devserver/moto_index_patch.py: a Query on a GSI reads its index partition, not the whole table
sorted, and answers exactly as moto does."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from moto.dynamodb.models.table import Table
from moto.dynamodb.responses import DynamoResult

from devserver import moto_index_patch

REGION = "eu-north-1"


def ddb() -> Any:
    return boto3.client("dynamodb", region_name=REGION)


def seed(table: str) -> None:
    """600 items: 120 in GSI2 (shards H0-H3), 120 in GSI1, the rest in neither."""
    items = []
    for i in range(600):
        item: dict[str, Any] = {"PK": {"S": f"P{i % 97}"}, "SK": {"S": f"S{i:04}"}, "n": {"N": str(i)}}
        if i % 5 == 0:
            item |= {"GSI2PK": {"S": f"H{i % 4}"}, "GSI2SK": {"S": f"2028-01-{1 + i % 28:02}#{i:04}"}}
        if i % 5 == 1:
            item |= {"GSI1PK": {"S": f"G{i % 3}"}, "GSI1SK": {"S": f"name{i % 7}#{i:04}"}}
        items.append(item)
    for start in range(0, len(items), 25):
        ddb().batch_write_item(RequestItems={table: [{"PutRequest": {"Item": it}} for it in items[start : start + 25]]})


QUERIES = [
    ("GSI2", "GSI2PK = :h AND GSI2SK < :upto", {":h": {"S": "H0"}, ":upto": {"S": "2028-01-15#~"}}, True),
    ("GSI2", "GSI2PK = :h AND GSI2SK < :upto", {":h": {"S": "H2"}, ":upto": {"S": "2028-02-01#~"}}, False),
    ("GSI2", "GSI2PK = :h", {":h": {"S": "H3"}}, True),
    ("GSI2", "GSI2PK = :h", {":h": {"S": "nobody"}}, True),
    ("GSI1", "GSI1PK = :g AND begins_with(GSI1SK, :p)", {":g": {"S": "G1"}, ":p": {"S": "name3"}}, True),
]


def pages(table: str, index: str, condition: str, values: dict[str, Any], forward: bool) -> list[Any]:
    """Every page of the query, 4 items at a time: items, ScannedCount and where the next starts."""
    found, start = [], None
    while True:
        params: dict[str, Any] = {
            "TableName": table,
            "IndexName": index,
            "KeyConditionExpression": condition,
            "ExpressionAttributeValues": values,
            "ScanIndexForward": forward,
            "Limit": 4,
        }
        if start:
            params["ExclusiveStartKey"] = start
        page = ddb().query(**params)
        found.append((page["Items"], page["ScannedCount"], page.get("LastEvaluatedKey")))
        start = page.get("LastEvaluatedKey")
        if not start:
            return found


@pytest.mark.parametrize(("index", "condition", "values", "forward"), QUERIES)
def test_an_index_query_answers_as_moto_does_page_by_page(
    table: str, monkeypatch: pytest.MonkeyPatch, index: str, condition: str, values: dict[str, Any], forward: bool
) -> None:
    # Given a table with items in both indexes and in neither
    seed(table)
    # When the same query is paged through by moto as it is, then with the patch
    as_moto = pages(table, index, condition, values, forward)
    with monkeypatch.context() as patched:
        patched.setattr(Table, "query", moto_index_patch.index_partition_query(Table.query))
        as_patched = pages(table, index, condition, values, forward)
    # Then every page is the same: items, order, ScannedCount, LastEvaluatedKey
    assert as_patched == as_moto
    assert sum(len(items) for items, _, _ in as_moto) == sum(n for _, n, _ in as_moto)


def test_an_index_query_never_sorts_the_whole_table(table: str, monkeypatch: pytest.MonkeyPatch) -> None:
    seed(table)
    with monkeypatch.context() as patched:
        patched.setattr(Table, "query", moto_index_patch.index_partition_query(Table.query))

        def whole_table(_self: Table) -> list[Any]:
            raise AssertionError("the whole table was read and sorted")

        patched.setattr(Table, "all_items", whole_table)
        (items, scanned, _), *_ = pages(table, *QUERIES[0])
    assert scanned == len(items) == 4
    assert [i["GSI2SK"]["S"] for i in items] == sorted(i["GSI2SK"]["S"] for i in items)


EVERY_TYPE = {
    "PK": {"S": "T"},
    "SK": {"S": "1"},
    "s": {"S": 'é ✓ "quoted"'},
    "n": {"N": "-12.5"},
    "yes": {"BOOL": True},
    "nothing": {"NULL": True},
    "list": {"L": [{"S": "a"}, {"N": "1"}, {"M": {"k": {"S": "v"}}}]},
    "map": {"M": {"deep": {"L": [{"BOOL": False}]}}},
    "ss": {"SS": ["a", "b"]},
    "ns": {"NS": ["1", "2"]},
}
WITH_BINARY = {**EVERY_TYPE, "SK": {"S": "2"}, "b": {"B": b"\x00\xffbytes"}, "bs": {"BS": [b"x", b"y"]}}


def reads(table: str) -> list[Any]:
    client = ddb()
    t1, t2 = ({"PK": {"S": "T"}, "SK": {"S": sk}} for sk in ("1", "2"))
    answers = [
        client.get_item(TableName=table, Key=t1, ConsistentRead=True),
        client.get_item(TableName=table, Key=t2),
        client.get_item(TableName=table, Key={"PK": {"S": "T"}, "SK": {"S": "none"}}),
        client.query(
            TableName=table, KeyConditionExpression="PK = :p", ExpressionAttributeValues={":p": {"S": "T"}}, Limit=1
        ),
        client.query(
            TableName=table,
            KeyConditionExpression="PK = :p",
            ExpressionAttributeValues={":p": {"S": "T"}},
            ProjectionExpression="n, #l",
            ExpressionAttributeNames={"#l": "list"},
        ),
        client.scan(TableName=table),
        client.batch_get_item(RequestItems={table: {"Keys": [t1, t2]}}),
        client.describe_table(TableName=table)["Table"]["CreationDateTime"],
    ]
    for answer in answers:
        if isinstance(answer, dict):
            answer.pop("ResponseMetadata", None)
    return answers


def test_reads_answer_the_same_with_plain_json(table: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given items with every attribute type, binary ones included
    for item in (EVERY_TYPE, WITH_BINARY):
        ddb().put_item(TableName=table, Item=item)
    # When gets, queries, scans, batch gets and a table description are answered by moto, then patched
    as_moto = reads(table)
    real = DynamoResult.execute_result
    serialized_by_moto: list[str] = []

    def moto_serializer(self: DynamoResult, context: Any) -> Any:
        serialized_by_moto.append(context.operation_model.name)
        return real(self, context)

    with monkeypatch.context() as patched:
        patched.setattr(DynamoResult, "execute_result", moto_index_patch.plain_json_reads(moto_serializer))
        as_patched = reads(table)
    # Then every answer is the same
    assert as_patched == as_moto
    # And only what holds binary values, or is not a read, went through moto's serializer
    assert sorted(serialized_by_moto) == ["BatchGetItem", "DescribeTable", "GetItem", "Scan"]
    assert as_moto[0]["Item"] == EVERY_TYPE
    assert as_moto[1]["Item"] == WITH_BINARY

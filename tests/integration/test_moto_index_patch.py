"""devserver/moto_index_patch.py: a Query on a GSI reads its index partition, found through an
index kept as items are written, never the whole table; and it answers exactly as moto does, also
after random puts, updates in place, deletes, batch writes and transactions undone."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto.dynamodb.models.dynamo_type import Item
from moto.dynamodb.models.table import Table
from moto.dynamodb.responses import DynamoResult

from devserver import moto_index_patch

REGION = "eu-north-1"


def ddb() -> Any:
    return boto3.client("dynamodb", region_name=REGION)


def unpatched(method: Callable[..., Any]) -> Callable[..., Any]:
    """moto's own method, under every wrapper the dev server's patches put around it."""
    while hasattr(method, "__wrapped__"):
        method = method.__wrapped__
    return method


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
    with monkeypatch.context() as as_it_is:
        as_it_is.setattr(Table, "query", unpatched(Table.query))
        as_moto = pages(table, index, condition, values, forward)
    as_patched = pages(table, index, condition, values, forward)
    # Then every page is the same: items, order, ScannedCount, LastEvaluatedKey
    assert as_patched == as_moto
    assert sum(len(items) for items, _, _ in as_moto) == sum(n for _, n, _ in as_moto)


def test_an_index_query_never_reads_the_whole_table(table: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a table whose index was built by a first query
    seed(table)
    pages(table, *QUERIES[2])

    def whole_table(*_args: Any) -> list[Any]:
        raise AssertionError("the whole table was read")

    with monkeypatch.context() as patched:
        # When items are written and the indexes queried, with every way of reading the whole table refused
        patched.setattr(Table, "all_items", whole_table)
        patched.setattr(moto_index_patch, "_items", whole_table)
        new = {"PK": {"S": "new"}, "SK": {"S": "1"}, **GSI2_ITEM("H0", "2028-01-00#new")}
        ddb().put_item(TableName=table, Item=new)
        first_page, *_ = pages(table, *QUERIES[0])
        answers = [pages(table, *query) for query in QUERIES]
    # Then each query read only its partition: a page of 4, in the index's order, the new item first
    items, scanned, _ = first_page
    assert scanned == len(items) == 4
    assert [i["GSI2SK"]["S"] for i in items] == sorted(i["GSI2SK"]["S"] for i in items)
    assert items[0]["PK"] == {"S": "new"}
    assert [sum(len(page) for page, _, _ in answer) for answer in answers] == [18, 30, 30, 0, 6]


def test_a_page_costs_what_it_holds_not_what_its_partition_holds(table: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given one index partition of 400 items, all within the query's key condition
    for start in range(0, 400, 25):
        requests = [
            {"PutRequest": {"Item": {"PK": {"S": f"P{i}"}, "SK": {"S": "s"}, **GSI2_ITEM("H0", f"2028-01-01#{i:04}")}}}
            for i in range(start, start + 25)
        ]
        ddb().batch_write_item(RequestItems={table: requests})
    handed = [0]  # items moto's query was given to walk, sort and skip
    all_items = moto_index_patch._IndexPartition.all_items

    def counted(partition: Any) -> list[Item]:
        found = all_items(partition)
        handed[0] += len(found)
        return found

    monkeypatch.setattr(moto_index_patch._IndexPartition, "all_items", counted)
    query = ("GSI2", "GSI2PK = :h AND GSI2SK <= :upto", {":h": {"S": "H0"}, ":upto": {"S": "2028-02-01"}})
    for forward in (True, False):
        # When it is paged through, 4 items at a time
        handed[0] = 0
        answer = pages(table, *query, forward)
        # Then moto was given each page's items and the one after, never the rest of the partition
        assert sum(len(items) for items, _, _ in answer) == 400
        assert handed[0] <= (4 + 1) * len(answer)


def GSI2_ITEM(shard: str, due: str) -> dict[str, Any]:
    return {"GSI2PK": {"S": shard}, "GSI2SK": {"S": due}}


def random_write(table: str, rng: random.Random) -> None:
    """One write of a random kind to one of 60 items, moving items between index partitions,
    into and out of the indexes; transactions fail (and are undone) about a third of the time."""
    WRITES[rng.randrange(len(WRITES))](ddb(), table, rng)


def random_key(rng: random.Random) -> dict[str, Any]:
    return {"PK": {"S": f"P{rng.randrange(6)}"}, "SK": {"S": f"S{rng.randrange(10)}"}}


def random_indexed(rng: random.Random) -> dict[str, Any]:
    """Index attributes: GSI2's most of the time, GSI1's sometimes, both or neither."""
    found: dict[str, Any] = {}
    if rng.random() < 0.7:
        found |= GSI2_ITEM(f"H{rng.randrange(3)}", f"2028-01-{rng.randrange(1, 29):02}#{rng.randrange(99)}")
    if rng.random() < 0.3:
        found |= {"GSI1PK": {"S": f"G{rng.randrange(2)}"}, "GSI1SK": {"S": f"n{rng.randrange(9)}"}}
    return found


def put(client: Any, table: str, rng: random.Random) -> None:
    client.put_item(TableName=table, Item={**random_key(rng), **random_indexed(rng), "v": {"N": str(rng.randrange(9))}})


def update_in_place(client: Any, table: str, rng: random.Random) -> None:
    shard, due = f"H{rng.randrange(3)}", f"2028-01-{rng.randrange(1, 29):02}#u"
    client.update_item(
        TableName=table,
        Key=random_key(rng),
        UpdateExpression="SET GSI2PK = :h, GSI2SK = :s",
        ExpressionAttributeValues={":h": {"S": shard}, ":s": {"S": due}},
    )


def remove_from_indexes(client: Any, table: str, rng: random.Random) -> None:
    client.update_item(TableName=table, Key=random_key(rng), UpdateExpression="REMOVE GSI2PK, GSI1PK")


def delete(client: Any, table: str, rng: random.Random) -> None:
    client.delete_item(TableName=table, Key=random_key(rng))


def batch(client: Any, table: str, rng: random.Random) -> None:
    keys = {f"{k['PK']['S']}/{k['SK']['S']}": k for k in (random_key(rng) for _ in range(5))}
    requests = [{"PutRequest": {"Item": {**k, **random_indexed(rng)}}} for k in keys.values()]
    client.batch_write_item(RequestItems={table: requests})


def transaction(client: Any, table: str, rng: random.Random) -> None:
    first, second = random_key(rng), random_key(rng)
    if first == second:
        return
    actions: list[dict[str, Any]] = [
        {"Put": {"TableName": table, "Item": {**first, **random_indexed(rng)}}},
        {"Update": {"TableName": table, "Key": second, "UpdateExpression": "REMOVE GSI2PK"}},
    ]
    fails = rng.random() < 0.35
    if fails:  # a condition that fails: everything above is undone
        actions.append(
            {"ConditionCheck": {"TableName": table, "Key": ABSENT, "ConditionExpression": "attribute_exists(PK)"}}
        )
    try:
        client.transact_write_items(TransactItems=actions)
        refused = None
    except ClientError as failed:
        refused = failed.response["Error"]["Code"]
    assert refused == ("TransactionCanceledException" if fails else None)


WRITES = [put, update_in_place, remove_from_indexes, delete, batch, transaction]


ABSENT = {"PK": {"S": "absent"}, "SK": {"S": "absent"}}  # a key random writes never write
RANDOM_QUERIES = [
    *(("GSI2", "GSI2PK = :h", {":h": {"S": f"H{n}"}}, forward) for n in range(3) for forward in (True, False)),
    *(
        ("GSI2", f"GSI2PK = :h AND {condition}", {":h": {"S": f"H{n}"}, **values}, forward)
        for n in range(3)
        for forward in (True, False)
        for condition, values in [
            ("GSI2SK <= :upto", {":upto": {"S": "2028-01-14#~"}}),
            ("GSI2SK > :after", {":after": {"S": "2028-01-09#5"}}),
            ("GSI2SK BETWEEN :a AND :b", {":a": {"S": "2028-01-03"}, ":b": {"S": "2028-01-21#4"}}),
            ("begins_with(GSI2SK, :p)", {":p": {"S": "2028-01-1"}}),
        ]
    ),
    *(("GSI1", "GSI1PK = :g", {":g": {"S": f"G{n}"}}, True) for n in range(2)),
]


@pytest.mark.parametrize("seed_value", [1, 2, 3])
def test_after_random_writes_index_queries_answer_as_moto_does(
    table: str, monkeypatch: pytest.MonkeyPatch, seed_value: int
) -> None:
    rng = random.Random(seed_value)
    moto_query = unpatched(Table.query)
    for round_ in range(25):
        # Given random writes of every kind since the last queries
        for _ in range(12):
            random_write(table, rng)
        # When every partition is paged through by the patch, then by moto as it is
        as_patched = [pages(table, *query) for query in RANDOM_QUERIES]
        with monkeypatch.context() as as_it_is:
            as_it_is.setattr(Table, "query", moto_query)
            as_moto = [pages(table, *query) for query in RANDOM_QUERIES]
        # Then the answers are the same, page by page
        assert as_patched == as_moto, f"round {round_}"
    assert any(len(answer) > 1 for answer in as_moto)  # partitions of several pages were compared


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
    real = unpatched(DynamoResult.execute_result)
    with monkeypatch.context() as as_it_is:
        as_it_is.setattr(DynamoResult, "execute_result", real)
        as_moto = reads(table)
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

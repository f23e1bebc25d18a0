"""The dev server's embedded DynamoDB behaves like DynamoDB where our code relies on it."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto.backends import get_backend

from devserver.dynamo import EmbeddedDynamo
from tools.template import create_table

TABLE = "embedded"


@pytest.fixture
def client(aws_env: None) -> Iterator[Any]:
    """A fresh embedded DynamoDB (moto's state is per process, so reset it between tests)."""
    for backend in get_backend("dynamodb").values():
        backend.reset()
    server = EmbeddedDynamo().start()
    try:
        ddb = boto3.client("dynamodb", endpoint_url=server.endpoint_url, region_name="eu-north-1")
        create_table(ddb, TABLE)
        yield ddb
    finally:
        server.stop()


def increment(token: str, by: int = 1) -> dict[str, Any]:
    return {
        "TransactItems": [
            {
                "Update": {
                    "TableName": TABLE,
                    "Key": {"PK": {"S": "counter"}, "SK": {"S": "c"}},
                    "UpdateExpression": "ADD n :by",
                    "ExpressionAttributeValues": {":by": {"N": str(by)}},
                }
            }
        ],
        "ClientRequestToken": token,
    }


def count(client: Any) -> int:
    item = client.get_item(TableName=TABLE, Key={"PK": {"S": "counter"}, "SK": {"S": "c"}}).get("Item")
    return int(item["n"]["N"]) if item else 0


def test_a_transaction_retried_with_its_token_runs_once(client: Any) -> None:
    # Given a transaction that succeeded (its answer could have been lost on the way back)
    client.transact_write_items(**increment("token-1"))
    # When the SDK retries it with the same token
    client.transact_write_items(**increment("token-1"))
    # Then it ran once, as in DynamoDB; another token runs again
    assert count(client) == 1
    client.transact_write_items(**increment("token-2"))
    assert count(client) == 2


def test_the_same_token_with_other_content_is_refused(client: Any) -> None:
    client.transact_write_items(**increment("token-x"))
    with pytest.raises(ClientError) as raised:
        client.transact_write_items(**increment("token-x", by=5))
    assert raised.value.response["Error"]["Code"] == "IdempotentParameterMismatchException"
    assert count(client) == 1


def test_concurrent_calls_are_each_atomic(client: Any) -> None:
    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(lambda i: client.transact_write_items(**increment(f"t{i}")), range(64)))
    assert count(client) == 64

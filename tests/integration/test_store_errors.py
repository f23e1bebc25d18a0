"""DynamoDB failures injected with botocore's Stubber: the store maps them to the right domain errors."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from license_manager import deadline
from license_manager.domain.errors import Conflict, NotFound, Unavailable
from license_manager.store import dynamo


@pytest.fixture(autouse=True)
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The backoff waits, recorded instead of slept."""
    recorded: list[float] = []
    monkeypatch.setattr(deadline, "sleep", recorded.append)
    return recorded


@pytest.fixture
def stub(aws_env: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Stubber]:
    client = boto3.client("dynamodb", region_name="eu-north-1")
    monkeypatch.setattr(dynamo, "client", lambda: client)
    with Stubber(client) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()


def actions() -> list[dynamo.TxAction]:
    return [
        dynamo.put(
            {"PK": "A", "SK": "A"},
            condition="attribute_not_exists(PK)",
            on_fail=lambda old: NotFound(f"old={old and old['n']}"),
        ),
        dynamo.update({"PK": "B", "SK": "B"}, "SET n = n + :one", values={":one": 1}),
    ]


def cancel(stubber: Stubber, *codes: str, item: dict[str, Any] | None = None) -> None:
    reasons: list[dict[str, Any]] = [{"Code": c} for c in codes]
    if item is not None:
        reasons[0]["Item"] = dynamo.to_attrs(item)
    stubber.add_client_error(
        "transact_write_items",
        service_error_code="TransactionCanceledException",
        http_status_code=400,
        response_meta={},
        modeled_fields={"CancellationReasons": reasons},
    )


def test_failed_condition_raises_that_actions_error_with_the_old_item(stub: Stubber) -> None:
    cancel(stub, "ConditionalCheckFailed", "None", item={"PK": "A", "SK": "A", "n": 7})
    with pytest.raises(NotFound, match="old=7"):
        dynamo.transact(actions())


def test_failed_condition_without_a_mapping_is_a_conflict(stub: Stubber) -> None:
    cancel(stub, "None", "ConditionalCheckFailed")
    with pytest.raises(Conflict):
        dynamo.transact(actions())


def test_transaction_conflicts_are_retried_with_backoff_then_succeed(stub: Stubber, waits: list[float]) -> None:
    cancel(stub, "TransactionConflict", "None")
    cancel(stub, "None", "TransactionConflict")
    stub.add_response("transact_write_items", {})
    dynamo.transact(actions())
    assert len(waits) == 2
    assert all(0 <= w <= 1.0 for w in waits)


def test_conflicts_that_never_clear_give_up_as_503(stub: Stubber) -> None:
    for _ in range(dynamo.MAX_ATTEMPTS):
        cancel(stub, "TransactionConflict", "None")
    with pytest.raises(Unavailable):
        dynamo.transact(actions())


def test_throttling_is_retried_then_reported_as_busy(stub: Stubber) -> None:
    for _ in range(dynamo.MAX_ATTEMPTS):
        stub.add_client_error("transact_write_items", service_error_code="ThrottlingException", http_status_code=400)
    with pytest.raises(Unavailable) as raised:
        dynamo.transact(actions())
    assert raised.value.retry_after >= 1


def test_conditional_check_on_a_single_write_maps_to_conflict() -> None:
    err = ClientError({"Error": {"Code": "ConditionalCheckFailedException", "Message": "x"}}, "PutItem")
    assert isinstance(dynamo.map_client_error(err), Conflict)
    other = ClientError({"Error": {"Code": "ValidationException", "Message": "x"}}, "PutItem")
    assert dynamo.map_client_error(other) is None


@pytest.mark.usefixtures("aws_env")
def test_conditional_actions_ask_for_the_old_item() -> None:
    assert actions()[0]._raw["Put"]["ReturnValuesOnConditionCheckFailure"] == "ALL_OLD"
    assert "ReturnValuesOnConditionCheckFailure" not in actions()[1]._raw["Update"]


def test_a_retried_transaction_keeps_its_token_so_a_lost_success_is_not_redone(
    aws_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a transaction whose first attempt committed but whose answer was lost (a 500)
    tokens: list[str] = []

    class Flaky:
        def transact_write_items(self, **params: Any) -> dict[str, Any]:
            tokens.append(params["ClientRequestToken"])
            if len(tokens) == 1:
                raise ClientError({"Error": {"Code": "InternalServerError", "Message": "lost"}}, "TransactWriteItems")
            return {}

    monkeypatch.setattr(dynamo, "client", Flaky)
    # When the store retries it
    dynamo.transact(actions())
    # Then the retry carries the same token, so DynamoDB answers it with the first attempt's success
    assert len(tokens) == 2
    assert tokens[0] == tokens[1]


def test_a_cancelled_transaction_is_retried_as_a_new_request(aws_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    # A cancellation says nothing was written: its retry is a new request with a new token
    tokens: list[str] = []

    class Conflicting:
        def transact_write_items(self, **params: Any) -> dict[str, Any]:
            tokens.append(params["ClientRequestToken"])
            if len(tokens) == 1:
                raise ClientError(
                    {
                        "Error": {"Code": "TransactionCanceledException", "Message": "conflict"},
                        "CancellationReasons": [{"Code": "TransactionConflict"}, {"Code": "None"}],
                    },
                    "TransactWriteItems",
                )
            return {}

    monkeypatch.setattr(dynamo, "client", Conflicting)
    dynamo.transact(actions())
    assert len(tokens) == 2
    assert tokens[0] != tokens[1]

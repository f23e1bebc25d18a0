"""A function's retries fit in its timeout, with room left to answer 503.

Time is simulated: every call to DynamoDB takes as long as botocore lets it (connect + read
timeouts) and every backoff wait advances the same clock, which is also the Lambda context's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from botocore.exceptions import ClientError, ReadTimeoutError

from license_manager import deadline, settings
from license_manager.store import dynamo
from tests.helpers import call, claims_for, function_module, http_event, unique_email

pytestmark = pytest.mark.usefixtures("table")

TIMEOUT_S = 10  # template.yaml's Globals.Function.Timeout


@dataclass
class SimulatedTime:
    elapsed: float = 0.0

    def remaining_ms(self) -> int:
        return int((TIMEOUT_S - self.elapsed) * 1000)


@dataclass
class Context:
    time: SimulatedTime
    function_name: str = "ActivateFunction"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:local:000000000000:function:ActivateFunction"
    aws_request_id: str = "budget"

    def get_remaining_time_in_millis(self) -> int:
        return self.time.remaining_ms()


def throttled(name: str) -> Exception:
    return ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, name)


def unavailable(name: str) -> Exception:
    return ClientError({"Error": {"Code": "InternalServerError", "Message": "oops"}}, name)


def timed_out(_name: str) -> Exception:
    return ReadTimeoutError(endpoint_url="http://dynamodb")


@pytest.mark.parametrize("failure", [throttled, unavailable, timed_out])
@pytest.mark.parametrize("failing", ["every call", "transact_write_items"])
def test_a_database_that_never_answers_gets_a_503_before_the_timeout(
    monkeypatch: pytest.MonkeyPatch, failure: Callable[[str], Exception], failing: str
) -> None:
    # Given an org, and a database whose calls each take as long as botocore allows, then fail
    admin = unique_email("admin")
    org_id = call("orgs", "POST", "/orgs", admin, {"name": "Acme"}).body["org_id"]
    real = dynamo.client()
    time = SimulatedTime()
    call_budget = settings.current().call_budget_s

    class Failing:
        def __getattr__(self, name: str) -> Callable[..., Any]:
            def slow(**params: Any) -> Any:
                if failing not in ("every call", name):
                    return getattr(real, name)(**params)
                time.elapsed += call_budget
                raise failure(name)

            return slow

    monkeypatch.setattr(dynamo, "client", Failing)
    monkeypatch.setattr(deadline, "sleep", lambda seconds: setattr(time, "elapsed", time.elapsed + seconds))
    # When an admin changes the device count
    event = http_event("PUT", f"/orgs/{org_id}/products/camera-station-pro/usage", body={"devices": 3})
    event["requestContext"]["authorizer"] = {"jwt": {"claims": claims_for(admin), "scopes": None}}
    result = function_module("activate").lambda_handler(event, Context(time))
    # Then the answer is a 503 to retry, given with the margin still left before the timeout
    assert result["statusCode"] == 503
    assert result["headers"]["Retry-After"]
    assert TIMEOUT_S - time.elapsed >= settings.current().answer_margin_ms / 1000
    assert time.elapsed > call_budget  # it did retry while there was time


def test_the_budget_of_one_call_fits_the_function_timeout_with_a_retry() -> None:
    config = settings.current()
    assert 2 * config.call_budget_s + config.answer_margin_ms / 1000 < TIMEOUT_S

"""The renewal sweep against moto: hundreds of subscriptions, idempotence, time limits, faults."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from license_manager import clock
from license_manager.domain.catalog import Product
from license_manager.domain.licensing import ProductState, activate, empty
from license_manager.domain.periods import add_months
from license_manager.services import renewals
from license_manager.store import events as event_bus
from license_manager.store import licensing as store
from tests.helpers import EVENTS, counting_calls, function_module
from tools.functions import FakeContext

PRODUCT = Product(product_id="camera-station-pro", name="Cam", trial_days=30, terms_version="2026-01", term_months=12)
START = datetime(2027, 1, 1, tzinfo=UTC)
FOREVER = lambda: 10**9  # noqa: E731 - plenty of Lambda time left


@pytest.fixture
def bus(table: str) -> Iterator[Any]:
    """Everything published to EventBridge lands in a queue we can read."""
    event_bus.reset_client()
    sqs = boto3.client("sqs", region_name="eu-north-1")
    events = boto3.client("events", region_name="eu-north-1")
    queue = sqs.create_queue(QueueName="notifications")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="all", EventPattern=json.dumps({"source": ["license-manager"]}))
    events.put_targets(Rule="all", Targets=[{"Id": "q", "Arn": arn}])

    def received() -> list[dict[str, Any]]:
        found = []
        while messages := sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", []):
            for m in messages:
                found.append(json.loads(m["Body"]))
                sqs.delete_message(QueueUrl=queue, ReceiptHandle=m["ReceiptHandle"])
        return found

    yield received
    event_bus.reset_client()


def seed(org_id: str, activated_at: datetime, devices: int, wallet: int) -> ProductState:
    state = replace(
        empty(org_id, PRODUCT.product_id),
        devices=devices,
        declared_devices=devices,
        wallet=wallet,
        redeemed_total=wallet,
    )
    after = replace(activate(state, PRODUCT, activated_at, "admin@example.com").after, version=1)
    store.write([], 0, after, [])
    return after


def org(i: int) -> str:
    return f"org_{i:020d}"


def states(count: int) -> list[ProductState]:
    found = [store.get_state(org(i), PRODUCT.product_id) for i in range(count)]
    assert all(s is not None for s in found)
    return [s for s in found if s is not None]


def test_hundreds_of_subscriptions_spread_over_time_renew_exactly_when_due(bus: Any) -> None:
    rng = random.Random(7)
    seeded = [
        seed(
            org(i),
            START + timedelta(days=rng.randrange(0, 730), hours=rng.randrange(24)),
            devices=rng.randrange(0, 6),
            wallet=rng.randrange(0, 15),
        )
        for i in range(300)
    ]
    at = datetime(2028, 6, 1, tzinfo=UTC)
    clock.set_now(at)
    expected = sum(s.current_period(at) for s in seeded)  # periods that began since each activation
    summary = renewals.sweep(FOREVER)
    assert summary.renewed == expected > 50
    assert summary.errors == 0
    assert summary.complete
    for state in states(300):
        assert state.period == state.current_period(at)
        assert state.redeemed_total == state.wallet + state.consumed_total  # conservation
    published = bus()
    assert sum(1 for e in published if e["detail-type"] == "License Renewed") == expected
    assert len({e["detail"]["event_id"] for e in published}) == len(published)
    # the same sweep again changes nothing and sends nothing new
    again = renewals.sweep(FOREVER)
    assert (again.renewed, again.published) == (0, 0)
    assert [e for e in bus() if e["detail-type"] == "License Renewed"] == []


def test_the_sweep_reads_only_what_is_due_and_never_scans(monkeypatch: pytest.MonkeyPatch, bus: Any) -> None:
    for i in range(40):
        seed(org(i), START + timedelta(days=i * 30), devices=2, wallet=10)  # 40 activations over 3 years
    clock.set_now(datetime(2028, 3, 1, tzinfo=UTC))  # only those activated by 1 Mar 2027 are due
    due_now = sum(1 for i in range(40) if add_months(START + timedelta(days=i * 30), 12) <= clock.now())
    with counting_calls(monkeypatch) as calls:
        summary = renewals.sweep(FOREVER)
    assert "scan" not in calls
    assert summary.due == due_now
    assert calls.count("get_item") == due_now  # one read each: the next step decides from the state written
    assert calls.count("transact_write_items") == due_now


def test_two_sweeps_at_once_renew_once(monkeypatch: pytest.MonkeyPatch, bus: Any) -> None:
    seed(org(1), START, devices=3, wallet=10)
    clock.set_now(datetime(2028, 2, 1, tzinfo=UTC))
    real_get = store.get_state
    raced: list[bool] = []

    def get_then_the_other_sweep_runs(org_id: str, product_id: str) -> ProductState | None:
        state = real_get(org_id, product_id)
        if not raced:
            raced.append(True)
            other = renewals.sweep(FOREVER)  # the other sweep renews between our read and write
            assert other.renewed == 1
        return state

    with monkeypatch.context() as patched:
        patched.setattr(store, "get_state", get_then_the_other_sweep_runs)
        mine = renewals.sweep(FOREVER)
    assert mine.renewed == 0
    assert mine.errors == 0
    state = store.get_state(org(1), PRODUCT.product_id)
    assert state is not None
    assert (state.period, state.licensed, state.wallet) == (1, 3, 4)  # 3 at activation, 3 at renewal


def test_after_downtime_it_catches_up_period_by_period(bus: Any) -> None:
    seed(org(0), START, devices=4, wallet=14)  # covers 4 at activation, wallet 10
    clock.set_now(datetime(2030, 1, 2, tzinfo=UTC))  # three renewals were missed
    summary = renewals.sweep(FOREVER)
    assert (summary.renewed, summary.shortfalls) == (3, 1)
    (state,) = states(1)
    assert (state.period, state.licensed, state.wallet, state.consumed_total) == (3, 2, 0, 14)
    kinds = [(e["detail-type"], e["detail"]["period_number"]) for e in bus()]
    assert sorted(kinds) == sorted(
        [("License Renewed", 2), ("License Renewed", 3), ("License Renewed", 4), ("Renewal Shortfall", 4)]
    )


def test_out_of_time_it_stops_cleanly_and_the_next_run_resumes(bus: Any) -> None:
    for i in range(30):
        seed(org(i), START, devices=1, wallet=5)
    clock.set_now(datetime(2028, 1, 2, tzinfo=UTC))
    budget = iter([10**9] * 12 + [0] * 1000)
    first = renewals.sweep(lambda: next(budget))
    assert not first.complete
    assert 0 < first.renewed < 30
    second = renewals.sweep(FOREVER)
    assert second.complete
    assert first.renewed + second.renewed == 30
    assert all(s.period == 1 for s in states(30))


def test_one_bad_subscription_never_blocks_the_rest(monkeypatch: pytest.MonkeyPatch, bus: Any) -> None:
    for i in range(5):
        seed(org(i), START, devices=1, wallet=5)
    clock.set_now(datetime(2028, 1, 2, tzinfo=UTC))
    real_get = store.get_state

    def broken_for_org_2(org_id: str, product_id: str) -> ProductState | None:
        if org_id == org(2):
            raise RuntimeError("a corrupt item")
        return real_get(org_id, product_id)

    with monkeypatch.context() as patched:
        patched.setattr(store, "get_state", broken_for_org_2)
        summary = renewals.sweep(FOREVER)
    assert (summary.renewed, summary.errors, summary.complete) == (4, 1, True)
    retried = renewals.sweep(FOREVER)  # fixed: the next run renews it
    assert (retried.renewed, retried.errors) == (1, 0)


def test_notifications_wait_in_the_outbox_until_eventbridge_takes_them(
    monkeypatch: pytest.MonkeyPatch, bus: Any
) -> None:
    seed(org(0), START, devices=2, wallet=2)
    clock.set_now(datetime(2028, 1, 2, tzinfo=UTC))

    def unavailable(_page: Any) -> list[str]:
        raise ConnectionError("EventBridge is down")

    with monkeypatch.context() as patched:
        patched.setattr(event_bus, "publish", unavailable)
        down = renewals.sweep(FOREVER)
    assert (down.renewed, down.published) == (1, 0)
    assert bus() == []
    up = renewals.sweep(FOREVER)
    assert (up.renewed, up.published) == (0, 2)  # renewed + shortfall, sent now, once
    assert sorted(e["detail-type"] for e in bus()) == ["License Renewed", "Renewal Shortfall"]


def test_grace_warning_then_lapse_each_once(bus: Any) -> None:
    seed(org(0), START, devices=3, wallet=1)  # 2 uncovered from the start
    clock.set_now(START + timedelta(days=24))
    assert renewals.sweep(FOREVER).notices == 1
    clock.set_now(START + timedelta(days=25))
    assert renewals.sweep(FOREVER).notices == 0
    clock.set_now(START + timedelta(days=30, minutes=1))
    assert renewals.sweep(FOREVER).notices == 1
    assert renewals.sweep(FOREVER).notices == 0
    received = bus()
    assert [e["detail-type"] for e in received] == ["Grace Ending Soon", "License Lapsed"]
    assert received[0]["detail"]["shortfall"] == 2  # redeem 2 now to be fully licensed
    assert received[0]["detail"]["licenses_to_buy_before_next_renewal"] == 3  # devices 3 - wallet 0
    assert received[0]["source"] == "license-manager"


def test_the_scheduled_handler_runs_the_sweep(bus: Any) -> None:
    seed(org(0), START, devices=1, wallet=3)
    clock.set_now(datetime(2028, 1, 2, tzinfo=UTC))
    event = json.loads((EVENTS / "eventbridge-scheduled.json").read_text())
    result = function_module("renewal_cron").lambda_handler(event, FakeContext("RenewalCron", timeout_seconds=300))
    assert (result["renewed"], result["complete"], result["errors"]) == (1, True, 0)

"""The renewal sweep against moto: hundreds of subscriptions, idempotence, time limits, faults."""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from license_manager import clock
from license_manager.domain.catalog import Product
from license_manager.domain.licensing import ProductState, activate, empty
from license_manager.domain.periods import add_months
from license_manager.services import renewals
from license_manager.store import dynamo, keys
from license_manager.store import events as event_bus
from license_manager.store import licensing as store
from tests.helpers import EVENTS, function_module
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


@dataclass
class Reads:
    calls: list[str] = field(default_factory=list)
    items: int = 0  # items read: ScannedCount of queries, items of gets


@contextmanager
def reading(monkeypatch: pytest.MonkeyPatch) -> Iterator[Reads]:
    """Every DynamoDB call made inside the block, and how many items its reads read."""
    reads = Reads()
    real = dynamo.client()
    lock = threading.Lock()

    class Recording:
        def __getattr__(self, name: str) -> Any:
            method = getattr(real, name)

            def recorded(**params: Any) -> Any:
                answer = method(**params)
                with lock:
                    reads.calls.append(name)
                    reads.items += int(answer.get("ScannedCount", 0)) + int("Item" in answer)
                return answer

            return recorded

    with monkeypatch.context() as patched:
        patched.setattr(dynamo, "client", Recording)
        yield reads


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
    with reading(monkeypatch) as read:
        summary = renewals.sweep(FOREVER)
    assert "scan" not in read.calls
    assert summary.due == summary.renewed == due_now
    assert read.items == due_now  # the index items themselves: the sweep decides from them
    assert read.calls.count("get_item") == 0  # no read per renewal; the next step decides from the state written
    assert read.calls.count("transact_write_items") == due_now
    assert summary.published == due_now  # published as written, never read back from the outbox


def test_two_sweeps_at_once_renew_once(monkeypatch: pytest.MonkeyPatch, bus: Any) -> None:
    seed(org(1), START, devices=3, wallet=10)
    clock.set_now(datetime(2028, 2, 1, tzinfo=UTC))
    real_due = store.due
    raced: list[bool] = []

    def due_then_the_other_sweep_runs(shard: str, now: datetime, page_size: int) -> Iterator[list[store.Due]]:
        for page in real_due(shard, now, page_size):
            if not raced:
                raced.append(True)
                other = renewals.sweep(FOREVER)  # the other sweep renews between our read and write
                assert other.renewed == 1
            yield page

    with monkeypatch.context() as patched:
        patched.setattr(store, "due", due_then_the_other_sweep_runs)
        mine = renewals.sweep(FOREVER)
    assert raced
    assert (mine.due, mine.renewed, mine.errors) == (1, 0, 0)  # refused on its version, read again: nothing left
    state = store.get_state(org(1), PRODUCT.product_id)
    assert state is not None
    assert (state.period, state.licensed, state.wallet) == (1, 3, 4)  # 3 at activation, 3 at renewal
    assert [e["detail-type"] for e in bus()] == ["License Renewed"]


def test_a_decision_on_an_index_item_behind_the_table_is_refused_and_taken_again(
    monkeypatch: pytest.MonkeyPatch, bus: Any
) -> None:
    # Given a subscription due for renewal, as the index shows it
    seed(org(0), START, devices=2, wallet=10)
    clock.set_now(datetime(2028, 1, 2, tzinfo=UTC))
    lagging = [page for shard in keys.renewal_shards() for page in store.due(shard, clock.now(), 100)]
    # And a user's change that the index does not show yet: 3 devices from now on
    state = store.get_state(org(0), PRODUCT.product_id)
    assert state is not None
    store.write([], state.version, replace(state, devices=3, declared_devices=3), [])
    # When the sweep decides from the lagging index item
    with monkeypatch.context() as patched:
        patched.setattr(store, "due", lambda shard, _now, _size: iter(lagging if shard == lagging_shard() else []))
        summary = renewals.sweep(FOREVER)
    # Then its stale decision is refused, and the renewal is taken on the state as it is: 3 devices
    assert (summary.renewed, summary.errors) == (1, 0)
    (renewed,) = states(1)
    assert (renewed.period, renewed.devices, renewed.licensed, renewed.wallet) == (1, 3, 3, 5)
    assert [e["detail"]["licensed"] for e in bus() if e["detail-type"] == "License Renewed"] == [3]


def lagging_shard() -> str:
    return keys.renewal_shard(org(0), PRODUCT.product_id)


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


def test_one_bad_subscription_never_blocks_the_rest(bus: Any) -> None:
    for i in range(5):
        seed(org(i), START, devices=1, wallet=5)
    clock.set_now(datetime(2028, 1, 2, tzinfo=UTC))
    key = dynamo.to_attrs(keys.product_key(org(2), PRODUCT.product_id))
    item = dynamo.client().get_item(TableName=dynamo.table_name(), Key=key)["Item"]
    dynamo.client().put_item(TableName=dynamo.table_name(), Item={**item, "devices": {"S": "many"}})  # corrupt
    summary = renewals.sweep(FOREVER)
    assert (summary.due, summary.renewed, summary.errors, summary.complete) == (5, 4, 1, True)
    assert summary.published == 4  # the others' notifications went out
    dynamo.client().put_item(TableName=dynamo.table_name(), Item=item)  # repaired
    retried = renewals.sweep(FOREVER)  # the next run renews it
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


def test_several_renewals_run_at_once_never_more_than_the_bound(monkeypatch: pytest.MonkeyPatch, bus: Any) -> None:
    for i in range(40):
        seed(org(i), START, devices=1, wallet=5)
    clock.set_now(datetime(2028, 1, 2, tzinfo=UTC))
    real = dynamo.client()
    lock = threading.Lock()
    running, most = [0], [0]

    class Slow:
        """Each transaction takes 20 ms more, as across a network: the others go on meanwhile."""

        def transact_write_items(self, **params: Any) -> Any:
            with lock:
                running[0] += 1
                most[0] = max(most[0], running[0])
            try:
                time.sleep(0.02)
                return real.transact_write_items(**params)
            finally:
                with lock:
                    running[0] -= 1

        def __getattr__(self, name: str) -> Any:
            return getattr(real, name)

    with monkeypatch.context() as patched:
        patched.setattr(dynamo, "client", Slow)
        summary = renewals.sweep(FOREVER)
    assert (summary.renewed, summary.errors, summary.published) == (40, 0, 40)
    assert 1 < most[0] <= renewals.WORKERS
    assert all(s.period == 1 for s in states(40))


def test_pages_are_read_while_renewals_run_and_a_catch_up_found_again_stays_in_one_thread(
    monkeypatch: pytest.MonkeyPatch, bus: Any
) -> None:
    # Given 40 subscriptions that each missed 3 renewals (about 5 per index shard), read one index
    # item per page
    for i in range(40):
        seed(org(i), START + timedelta(minutes=i), devices=1, wallet=10)
    clock.set_now(datetime(2030, 1, 2, tzinfo=UTC))
    monkeypatch.setattr(renewals, "PAGE_SIZE", 1)
    real, real_due = dynamo.client(), store.due
    lock = threading.Lock()
    writing: dict[str, int] = {}  # org -> transactions on its way
    started: dict[str, int] = {}  # org -> transactions begun
    overlaps, reads_during_writes, found = [0], [0], [0]

    class Slow:
        """Each transaction takes 15 ms more, but the first subscription's second and third take
        600 ms: its first renewal moves it down the index at once, and it is still being renewed
        when the sweep reaches it there. No two may run for the same subscription."""

        def transact_write_items(self, **params: Any) -> Any:
            subscription = params["TransactItems"][0]["Put"]["Item"]["PK"]["S"]
            with lock:
                writing[subscription] = writing.get(subscription, 0) + 1
                overlaps[0] += int(writing[subscription] > 1)
                started[subscription] = started.get(subscription, 0) + 1
                slow = org(0) in subscription and started[subscription] > 1
            try:
                time.sleep(0.6 if slow else 0.015)
                return real.transact_write_items(**params)
            finally:
                with lock:
                    writing[subscription] -= 1

        def __getattr__(self, name: str) -> Any:
            return getattr(real, name)

    def first_renewed_once() -> bool:
        with lock:
            return any(n >= 2 for subscription, n in started.items() if org(0) in subscription)

    def due(shard: str, now: datetime, page_size: int) -> Iterator[list[store.Due]]:
        for page in real_due(shard, now, page_size):
            with lock:
                reads_during_writes[0] += int(any(writing.values()))
                found[0] += len(page)
            yield page
            if any(d.org_id == org(0) for d in page):  # read on once its first renewal is written
                give_up = time.monotonic() + 5
                while not first_renewed_once() and time.monotonic() < give_up:
                    time.sleep(0.002)

    # When the sweep runs
    with monkeypatch.context() as patched:
        patched.setattr(dynamo, "client", Slow)
        patched.setattr(store, "due", due)
        summary = renewals.sweep(FOREVER)
    # Then pages were read while renewals were on their way (the workers did not wait for reads)
    assert reads_during_writes[0] > 0
    # And subscriptions were found again in flight, after their first renewal moved them down the
    # index, and left to the worker that had them: each renewed its 3 periods, never two at once
    assert found[0] > 40
    assert overlaps[0] == 0
    assert (summary.due, summary.renewed, summary.errors) == (40, 120, 0)
    assert all(s.period == 3 for s in states(40))
    renewed = [e["detail"]["period_number"] for e in bus() if e["detail-type"] == "License Renewed"]
    assert sorted(renewed) == sorted([2, 3, 4] * 40)


def test_near_the_deadline_it_stops_starting_renewals_and_publishes_what_it_did(bus: Any) -> None:
    for i in range(30):
        seed(org(i), START, devices=1, wallet=5)
    clock.set_now(datetime(2028, 1, 2, tzinfo=UTC))
    # 10 s left after a few renewals: too little to start more, enough to publish
    budget = iter([10**9] * 12 + [renewals.SAFETY_MS - 5_000] * 1000)
    first = renewals.sweep(lambda: next(budget))
    assert not first.complete
    assert 0 < first.renewed < 30
    assert first.published == first.renewed  # every renewal it made is on the bus already
    assert len(bus()) == first.renewed
    second = renewals.sweep(FOREVER)
    assert (second.complete, first.renewed + second.renewed, second.published) == (True, 30, second.renewed)


def test_waiting_notifications_are_spread_over_the_outbox_shards_and_all_get_published(
    monkeypatch: pytest.MonkeyPatch, bus: Any
) -> None:
    for i in range(40):
        seed(org(i), START, devices=1, wallet=5)
    clock.set_now(datetime(2028, 1, 2, tzinfo=UTC))

    def unavailable(_page: Any) -> list[str]:
        raise ConnectionError("EventBridge is down")

    with monkeypatch.context() as patched:
        patched.setattr(event_bus, "publish", unavailable)
        down = renewals.sweep(FOREVER)
    assert (down.renewed, down.published, down.errors, down.outbox_backlog) == (40, 0, 40, 40)
    waiting = dynamo.client().scan(
        TableName=dynamo.table_name(),
        FilterExpression="#t = :o",
        ExpressionAttributeNames={"#t": "type"},
        ExpressionAttributeValues={":o": {"S": "outbox"}},
    )["Items"]
    shards = {i["PK"]["S"] for i in waiting}
    assert len(waiting) == 40
    assert len(shards) > 8  # no single hot partition
    assert shards <= set(keys.outbox_shards())
    up = renewals.sweep(FOREVER)  # the next run finds them in every shard
    assert (up.renewed, up.published, up.outbox_backlog) == (0, 40, 0)
    assert sorted(e["detail"]["org_id"] for e in bus()) == [org(i) for i in range(40)]


class Crash(BaseException):
    """The Lambda process dies here: nothing after this point runs."""


def test_a_crash_right_after_renewals_loses_no_notification(monkeypatch: pytest.MonkeyPatch, bus: Any) -> None:
    for i in range(12):
        seed(org(i), START, devices=1, wallet=5)
    clock.set_now(datetime(2028, 1, 2, tzinfo=UTC))
    real = dynamo.client()
    lock = threading.Lock()
    committed = [0]  # renewals written, by any thread, before and after the crash

    class DiesAfterThreeRenewals:
        def transact_write_items(self, **params: Any) -> Any:
            answer = real.transact_write_items(**params)
            with lock:
                committed[0] += 1
                dies = committed[0] == 3
            if dies:
                raise Crash  # written, not yet published
            return answer

        def __getattr__(self, name: str) -> Any:
            return getattr(real, name)

    with monkeypatch.context() as patched:
        patched.setattr(dynamo, "client", DiesAfterThreeRenewals)
        with pytest.raises(Crash):
            renewals.sweep(FOREVER)
    assert bus() == []  # it died before publishing anything
    after = renewals.sweep(FOREVER)  # the next run renews the rest and sends every notification
    assert after.renewed == 12 - committed[0]
    published = [e for e in bus() if e["detail-type"] == "License Renewed"]
    assert sorted(e["detail"]["org_id"] for e in published) == [org(i) for i in range(12)]
    assert all(s.period == 1 for s in states(12))

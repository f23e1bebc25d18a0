"""The renewal sweep against the raw transaction rate of the same backend, in one run.

Goals (docs/decisions.md), each a ratio measured side by side on the same backend:
1. renewals/s of the sweep >= 0.7 x the raw `TransactWriteItems` rate of transactions of the
   same shape (a renewal's own: state put on its version, history event, outbox notification),
   issued WORKERS at a time over the same client, precomputed, with nothing else to do;
2. items read by the sweep <= 1.05 x the subscriptions due;
3. peak Python memory (tracemalloc) of a sweep of 10,000 due within 10 % of one of 1,000, with
   every client created and warmed (connections open) before the measurement starts.

`section(endpoint)` measures against an embedded DynamoDB already running (bench/__main__.py);
`python -m bench.sweep` starts its own and prints the section.
"""

from __future__ import annotations

import functools
import multiprocessing
import os
import sys
import threading
import time
import tracemalloc
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3

from bench import moto_process
from license_manager import clock, ids, settings
from license_manager.domain.catalog import Product
from license_manager.domain.history import SYSTEM_ACTOR
from license_manager.domain.licensing import Change, ProductState, activate, empty, renew_once
from license_manager.domain.renewals import renewal_notifications
from license_manager.services import renewals
from license_manager.services.unit_of_work import history_events
from license_manager.store import dynamo, outbox
from license_manager.store import events as event_bus
from license_manager.store import licensing as store
from license_manager.store.history import put_event
from tools.template import create_table

SIZES = (1_000, 10_000)  # due subscriptions
RAW_TRANSACTIONS = 2_000
PRODUCT = Product(product_id="cam", name="Cam", trial_days=30, terms_version="1", term_months=12)
START = datetime(2027, 1, 1, tzinfo=UTC)
SWEEP_AT = datetime(2028, 2, 1, tzinfo=UTC)  # one renewal due for each
GOAL_RATE, GOAL_READS, GOAL_MEMORY = 0.7, 1.05, 1.10


# -- set-up ----------------------------------------------------------------------------------------


@contextmanager
def _environment(endpoint: str) -> Iterator[None]:
    """Point License Manager at `endpoint`, quietly; put the environment back afterwards."""
    wanted = {
        "AWS_ACCESS_KEY_ID": os.environ.get("AWS_ACCESS_KEY_ID", "bench"),
        "AWS_SECRET_ACCESS_KEY": os.environ.get("AWS_SECRET_ACCESS_KEY", "bench"),
        "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "eu-north-1"),
        "POWERTOOLS_LOG_LEVEL": "ERROR",
        "POWERTOOLS_METRICS_DISABLED": "true",  # as locally: an EMF line per renewal would be measured too
        "DYNAMODB_ENDPOINT_URL": endpoint,
        "EVENTS_ENDPOINT_URL": endpoint,
    }
    saved = {name: os.environ.get(name) for name in [*wanted, "TABLE_NAME"]}
    os.environ.update(wanted)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        clock.set_now(None)
        settings.reset()


def _use_table(name: str) -> None:
    """Switch License Manager to table `name`, keeping the warm clients (their settings are the
    same: only the table name, read per call, changes)."""
    os.environ["TABLE_NAME"] = name
    settings.reset()


def _fresh_table(endpoint: str, name: str) -> None:
    create_table(boto3.client("dynamodb", endpoint_url=endpoint), name)
    _use_table(name)


def _due_state(i: int) -> ProductState:
    state = replace(
        empty(f"org_{i:020d}", PRODUCT.product_id), devices=2, declared_devices=2, wallet=5, redeemed_total=5
    )
    return replace(activate(state, PRODUCT, START + timedelta(seconds=i), "a@b.co").after, version=1)


def _seed(count: int) -> None:
    """`count` subscriptions with one renewal due, 25 items per BatchWriteItem."""
    client, table = dynamo.client(), dynamo.table_name()
    for start in range(0, count, 25):
        requests: Any = [
            {"PutRequest": {"Item": dynamo.to_attrs(store.state_item(_due_state(i)))}}
            for i in range(start, min(count, start + 25))
        ]
        pending: Any = {table: requests}
        while pending:
            pending = client.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}


def _warm(endpoint: str) -> None:
    """Create every client and open its connections (a small sweep, WORKERS at once), so that
    nothing one-time is left for the measured runs."""
    _fresh_table(endpoint, "bench-sweep-warm")
    _seed(4 * renewals.WORKERS)
    clock.set_now(SWEEP_AT)
    summary = renewals.sweep(lambda: 10**9)
    assert (summary.renewed, summary.errors) == (4 * renewals.WORKERS, 0), summary
    event_bus.client()


# -- measuring -------------------------------------------------------------------------------------


class _Recorder:
    """The DynamoDB client, adding up the items each read reads (DynamoDB's ScannedCount for
    queries, the items returned by gets) and the calls made, with the time spent in each kind
    (summed over the threads); thread-safe, as the client is."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.items = 0
        self.calls: dict[str, tuple[int, float]] = {}
        self._lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.real, name)

        def recorded(**params: Any) -> Any:
            began = time.perf_counter()
            answer = method(**params)
            spent = time.perf_counter() - began
            read = int(answer.get("ScannedCount", 0)) + int("Item" in answer)
            read += sum(len(found) for found in answer.get("Responses", {}).values()) if name == "batch_get_item" else 0
            with self._lock:
                self.items += read
                count, total = self.calls.get(name, (0, 0.0))
                self.calls[name] = (count + 1, total + spent)
            return answer

        return recorded


@contextmanager
def _recording() -> Iterator[_Recorder]:
    recorder = _Recorder(dynamo.client())
    real = dynamo.client
    dynamo.client = lambda: recorder  # type: ignore[assignment]
    try:
        yield recorder
    finally:
        dynamo.client = real


def raw_rate(endpoint: str, count: int, in_flight: int) -> float:
    """Transactions/s of `count` renewal-shaped transactions (precomputed: the state on its
    version, the `renewed` history event, the notification), `in_flight` at a time."""
    _fresh_table(endpoint, f"bench-raw-{in_flight}")
    _seed(count)
    now = SWEEP_AT
    requests = []
    for i in range(count):
        before = _due_state(i)
        after, figures = renew_once(before)
        change = Change(before, after, [figures])
        actions = [
            store.state_put(before.version, after),
            *(put_event(after.org_id, e) for e in history_events(change, SYSTEM_ACTOR, now)),
            *(outbox.put(n, ids.new_event_id(now, seq), now) for seq, n in enumerate(renewal_notifications(change))),
        ]
        requests.append([a._raw for a in actions])
    client = dynamo.client()

    def send(raw: Any) -> None:
        client.transact_write_items(TransactItems=raw, ClientRequestToken=str(uuid.uuid4()))

    with ThreadPoolExecutor(max_workers=in_flight) as pool:
        began = time.perf_counter()
        list(pool.map(send, requests))
        elapsed = time.perf_counter() - began
    return count / elapsed


@dataclass(frozen=True)
class SweepRun:
    due: int
    seconds: float
    items_read: int
    calls: dict[str, tuple[int, float]]  # name -> (calls, seconds in them)
    peak_kib: float | None

    @property
    def rate(self) -> float:
        return self.due / self.seconds


def sweep_run(endpoint: str, due: int, *, memory: bool) -> SweepRun:
    """A sweep of `due` subscriptions on a fresh table; with `memory`, under tracemalloc (which
    slows every allocation, so the rate is measured in a run without it)."""
    _fresh_table(endpoint, f"bench-sweep-{due}-{'memory' if memory else 'rate'}")
    _seed(due)
    clock.set_now(SWEEP_AT)
    with _recording() as recorder:
        if memory:
            tracemalloc.start()
        began = time.perf_counter()
        summary = renewals.sweep(lambda: 10**9)
        elapsed = time.perf_counter() - began
        peak = tracemalloc.get_traced_memory()[1] / 1024 if memory else None
        tracemalloc.stop()
    clock.set_now(None)
    assert (summary.due, summary.renewed, summary.errors, summary.published) == (due, due, 0, due), summary
    return SweepRun(due, elapsed, recorder.items, dict(recorder.calls), peak)


# -- the section -----------------------------------------------------------------------------------


def section(endpoint: str) -> tuple[str, bool]:
    """The benchmarks' "Renewal sweep" section, and whether all three goals are met."""
    with _environment(endpoint):
        return _measure(endpoint)


def _measure(endpoint: str) -> tuple[str, bool]:
    timings: dict[str, float] = {}

    def timed(name: str, run: Callable[[], Any]) -> Any:
        began = time.perf_counter()
        result = run()
        timings[name] = time.perf_counter() - began
        return result

    _use_table("bench-sweep-warm")
    dynamo.reset_client()
    event_bus.reset_client()
    timed("warm-up", lambda: _warm(endpoint))
    raw_one = timed("raw, 1 at a time", lambda: raw_rate(endpoint, RAW_TRANSACTIONS // 4, 1))
    raw = timed(f"raw, {renewals.WORKERS} at a time", lambda: raw_rate(endpoint, RAW_TRANSACTIONS, renewals.WORKERS))
    best_raw = max(raw, raw_one)
    rates: dict[int, SweepRun] = {}
    memory: dict[int, SweepRun] = {}
    for n in SIZES:
        rates[n] = timed(f"sweep of {n:,} (rate)", functools.partial(sweep_run, endpoint, n, memory=False))
    for n in SIZES:
        memory[n] = timed(f"sweep of {n:,} (memory)", functools.partial(sweep_run, endpoint, n, memory=True))
    small, large = SIZES
    ratios = {n: rates[n].rate / best_raw for n in SIZES}
    reads = {n: rates[n].items_read / n for n in SIZES}
    memory_ratio = (memory[large].peak_kib or 0) / (memory[small].peak_kib or 1)
    ok_rate = min(ratios.values()) >= GOAL_RATE
    ok_reads = max(reads.values()) <= GOAL_READS
    ok_memory = memory_ratio <= GOAL_MEMORY

    def met(ok: bool) -> str:
        return "met" if ok else "NOT met"

    rows = "\n".join(
        f"| {n:,} | {rates[n].rate:,.0f} | **{ratios[n]:.2f}** | {rates[n].items_read:,} | **{reads[n]:.3f}** "
        f"| {memory[n].peak_kib or 0:,.0f} KiB | {rates[n].seconds:.1f} s |"
        for n in SIZES
    )
    calls = "; ".join(
        f"{n:,} due: "
        + ", ".join(
            f"{name} {count:,} ({seconds * 1000 / count:.1f} ms each)"
            for name, (count, seconds) in sorted(rates[n].calls.items())
        )
        for n in SIZES
    )
    spent = ", ".join(f"{name} {seconds:.0f} s" for name, seconds in timings.items())
    text = f"""## Renewal sweep: {renewals.WORKERS} renewals in flight, decided from the index, outbox sharded

Raw `TransactWriteItems` rate of this backend, transactions of a renewal's shape (the state put on
its version, the `renewed` history event, the `License Renewed` outbox item), precomputed and sent
over the sweep's own client with nothing else to do: **{raw:,.0f}/s** {renewals.WORKERS} at a time,
{raw_one:,.0f}/s one at a time. The goal is against the better of the two ({best_raw:,.0f}/s), so that
concurrency alone cannot meet it.

| due | renewals/s | / raw (goal >= {GOAL_RATE}) | items read | / due (goal <= {GOAL_READS}) | peak memory | time |
| ---: | ---: | ---: | ---: | ---: | ---: | ---: |
{rows}

Peak memory {large:,} / {small:,}: **{memory_ratio:.2f}** (goal <= {GOAL_MEMORY:.2f}: {met(ok_memory)}); renewals/s:
{met(ok_rate)}; items read: {met(ok_reads)}. Every client was created and its connections opened by
a warm-up sweep before tracemalloc started; the memory runs are separate sweeps (tracemalloc slows
every allocation). Items read count what DynamoDB reads: `ScannedCount` of queries, the items of
gets. DynamoDB calls of the sweep (and the average time each took, {renewals.WORKERS} at once): {calls}.
Unpatched, reads cost moto far more than DynamoDB: it answered through a generic serializer (about
1 ms per state item read here) and a GSI query sorted the whole table; `devserver/moto_index_patch.py`
removes both (a GSI query still makes one unsorted pass over the table, which DynamoDB does not).
Time spent by this section: {spent}.
"""
    return text, ok_rate and ok_reads and ok_memory


def main() -> int:
    """`python -m bench.sweep`: against a moto process of its own, as bench/__main__.py starts it."""
    serve = moto_process.serve
    parent, child = multiprocessing.get_context("spawn").Pipe()
    server = multiprocessing.get_context("spawn").Process(target=serve, args=(child,), daemon=True)
    server.start()
    if not parent.poll(60):
        raise RuntimeError("the moto process did not start")
    endpoint = parent.recv()
    try:
        text, ok = section(endpoint)
    finally:
        parent.send("stop")
        server.join(timeout=10)
    print(text)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

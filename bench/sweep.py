"""The renewal sweep against the raw transaction rate of the same backend, in one run.

Goals (docs/decisions.md), each a ratio measured side by side on the same backend:
1. renewals/s of the sweep >= 0.7 x the raw `TransactWriteItems` rate of transactions of the
   same shape (a renewal's own: state put on its version, history event, outbox notification),
   issued WORKERS at a time over the same client, precomputed, with nothing else to do; raw
   measurements and sweeps alternate, each sweep is compared with the raw rate around it, and
   the smaller size runs SMALL_ROUNDS times (its median counts);
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
RAW_TRANSACTIONS = 1_000  # per raw measurement
SMALL_ROUNDS = 3  # sweeps of the smaller size, each between two raw measurements: the median ratio counts
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
    _fresh_table(endpoint, f"bench-raw-{in_flight}-{uuid.uuid4().hex[:8]}")
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
    _fresh_table(endpoint, f"bench-sweep-{due}-{'memory' if memory else 'rate'}-{uuid.uuid4().hex[:8]}")
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
    # Raw and sweep interleaved, R S R S R S R S R, so that each sweep is compared with the
    # backend as it was just before and just after it (this machine's speed drifts within a run)
    small, large = SIZES
    raws = [timed("raw, before the first sweep", lambda: raw_rate(endpoint, RAW_TRANSACTIONS, renewals.WORKERS))]
    rounds: list[Round] = []
    for number, n in enumerate([small] * SMALL_ROUNDS + [large], 1):
        run = timed(f"sweep {number} ({n:,} due)", functools.partial(sweep_run, endpoint, n, memory=False))
        raws.append(timed(f"raw {number}", lambda: raw_rate(endpoint, RAW_TRANSACTIONS, renewals.WORKERS)))
        rounds.append(Round(number, run, (raws[-2] + raws[-1]) / 2, raw_one))
    memory: dict[int, SweepRun] = {}
    for n in SIZES:
        memory[n] = timed(f"sweep of {n:,} (memory)", functools.partial(sweep_run, endpoint, n, memory=True))
    median = {n: _median_round([r for r in rounds if r.run.due == n]) for n in SIZES}
    reads = {n: r.run.items_read / n for n, r in median.items()}
    memory_ratio = (memory[large].peak_kib or 0) / (memory[small].peak_kib or 1)
    ok_rate = min(r.ratio for r in median.values()) >= GOAL_RATE
    ok_reads = max(reads.values()) <= GOAL_READS
    ok_memory = memory_ratio <= GOAL_MEMORY

    def met(ok: bool) -> str:
        return "met" if ok else "NOT met"

    rows = "\n".join(
        f"| {r.number} | {r.run.due:,} | {r.run.rate:,.0f} | {r.raw:,.0f} | **{r.ratio:.2f}** | {r.run.items_read:,} "
        f"| **{r.run.items_read / r.run.due:.3f}** | {r.run.seconds:.1f} s |"
        for r in rounds
    )
    calls = "; ".join(
        f"{n:,} due: "
        + ", ".join(
            f"{name} {count:,} ({seconds * 1000 / count:.1f} ms each)"
            for name, (count, seconds) in sorted(median[n].run.calls.items())
        )
        for n in SIZES
    )
    spent = ", ".join(f"{name} {seconds:.0f} s" for name, seconds in timings.items())
    summary = "; ".join(f"{n:,} due **{median[n].ratio:.2f}**" for n in SIZES)
    text = f"""## Renewal sweep: {renewals.WORKERS} renewals in flight, decided from the index, outbox sharded

The raw rate: `TransactWriteItems` of a renewal's shape (the state put on its version, the
`renewed` history event, the `License Renewed` outbox item), precomputed and sent over the sweep's
own client, {renewals.WORKERS} at a time, with nothing else to do; {RAW_TRANSACTIONS:,} transactions per
measurement. Raw measurements and sweeps alternate (R S R S ...), and each sweep is compared with
the mean of the raw rates just before and just after it, or with the rate one at a time
({raw_one:,.0f}/s) if that is better, so that concurrency alone cannot meet the goal. The smaller
sweep runs {SMALL_ROUNDS} times and its median counts.

| round | due | renewals/s | raw/s around | / raw (goal {GOAL_RATE}) | items read | / due (goal {GOAL_READS}) | time |
| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
{rows}

Renewals/s over raw: {summary} ({met(ok_rate)}); items read: {met(ok_reads)}. Peak memory
(tracemalloc, separate sweeps, as tracemalloc slows every allocation): {memory[small].peak_kib or 0:,.0f} KiB
for {small:,} due, {memory[large].peak_kib or 0:,.0f} KiB for {large:,}: **{memory_ratio:.2f}** (goal
<= {GOAL_MEMORY:.2f}: {met(ok_memory)}). Every client was created and its connections opened by a warm-up
sweep before tracemalloc started. Items read count what DynamoDB reads: `ScannedCount` of queries,
the items of gets. DynamoDB calls of the median sweeps (and the average time each took,
{renewals.WORKERS} at once, waiting for the embedded DynamoDB's lock included): {calls}.

On top of the raw transactions, a sweep reads what is due (one index page per {renewals.PAGE_SIZE}) and publishes
what it wrote (a `PutEvents` per 10 notifications, a `BatchWriteItem` of deletes per 25), and the
embedded DynamoDB serves every call one at a time, EventBridge's included, as a sum that DynamoDB
and EventBridge would serve side by side. Unpatched, moto made a read cost far more than in
DynamoDB: every answer went through a generic serializer (about 1 ms per state item here) and an
index query sorted the whole table, then walked its partition to find the page;
`devserver/moto_index_patch.py` answers reads as plain JSON and keeps an index per table, so a
query looks at its partition's keys and hands moto only its page.
Time spent by this section: {spent}.
"""
    return text, ok_rate and ok_reads and ok_memory


@dataclass(frozen=True)
class Round:
    number: int
    run: SweepRun
    raw_around: float  # the mean of the raw rates just before and just after the sweep
    raw_one: float  # the raw rate one at a time

    @property
    def raw(self) -> float:
        return max(self.raw_around, self.raw_one)

    @property
    def ratio(self) -> float:
        return self.run.rate / self.raw


def _median_round(rounds: list[Round]) -> Round:
    """The round whose ratio is the median (the lower middle one of an even count)."""
    ordered = sorted(rounds, key=lambda r: r.ratio)
    return ordered[(len(ordered) - 1) // 2]


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

"""The renewal sweep (docs/rules.md, rule 6), run by the EventBridge schedule.

- Finds what is due through the sparse, write-sharded GSI2: no scan; cost follows what is due;
  one page at a time, so memory stays flat however much is due. The index projects the whole
  state, so the sweep decides from the index item and reads nothing more: the index may lag a
  moment behind, and the version condition of the write then refuses the stale decision, and
  the subscription is read consistently and decided again (the usual optimistic retry).
- Renews period by period, each renewal one transaction (state on its version + `renewed`
  history event by `system` + its notifications), each step deciding from the state the previous
  one wrote. Two sweeps at once, or one run twice, renew once: the loser's write fails its
  version condition, it re-reads and finds nothing left to do.
- Sends "grace ending soon" and "license lapsed" once per period.
- Runs up to WORKERS subscriptions at once (threads sharing the thread-safe boto3 client; one
  subscription is only ever in one thread). The next page is read while the previous one's last
  two renewals are in flight, so the workers do not wait for a read. Memory stays one page:
  botocore leaves reference cycles behind every call, which CPython would collect only once
  they reach a quarter of the heap; the sweep collects them after each page, and freezes what
  the process held before the run so that each collection looks only at the run's own objects
  (docs/decisions.md).
- Stops cleanly when the Lambda is about to run out of time: it submits nothing more, lets what
  is in flight finish and publishes; the next run resumes, since whatever is left is still due in
  the index. One bad subscription is logged and counted; the rest go on.
- Publishes the notifications it wrote itself as it goes, without reading them back (it knows
  them), then what the outbox still holds (users' changes, earlier runs) to EventBridge.
"""

from __future__ import annotations

import contextvars
import gc
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ALL_COMPLETED, FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass
from datetime import datetime

from license_manager import clock, deadline
from license_manager.domain.errors import StaleState, Unavailable
from license_manager.domain.history import SYSTEM_ACTOR
from license_manager.domain.licensing import Change, ProductState, renew_once, renewals_due
from license_manager.domain.renewals import Notification, grace_notices
from license_manager.domain.timefmt import to_iso
from license_manager.observability import logger
from license_manager.services.unit_of_work import MAX_ATTEMPTS, commit
from license_manager.store import dynamo, keys, outbox
from license_manager.store import events as event_bus
from license_manager.store import licensing as store

SAFETY_MS = 15_000  # stop submitting with this much time left: finish what is in flight, publish
PAGE_SIZE = 50  # due subscriptions per index page (DynamoDB's 1 MB page holds ~1,500 states)
WORKERS = 8  # subscriptions in flight at once (docs/decisions.md: measured in bench/sweep.py)
READ_BESIDE = 2  # at most this many renewals still in flight while the next page is read
PUBLISH_BATCH = 25  # notifications published (and deleted) together: one BatchWriteItem of deletes


@dataclass
class Summary:
    due: int = 0
    renewed: int = 0
    shortfalls: int = 0
    notices: int = 0
    published: int = 0
    errors: int = 0
    complete: bool = True
    as_of: str = ""
    outbox_backlog: int = 0  # notifications still waiting when the run ended
    outbox_oldest_age_s: int = 0  # how long the oldest of them has waited

    def as_dict(self) -> dict[str, object]:
        return asdict(self)

    @property
    def failed(self) -> bool:
        """Something could not be done (it is retried next run): the invocation must say so."""
        return self.errors > 0


class SweepFailed(RuntimeError):
    """Raised by the scheduled handler when a run had errors, so that Lambda counts a failed
    invocation and the run lands in the failure queue (docs/operations.md)."""


@dataclass(frozen=True)
class Renewed:
    """One period renewed (one transaction)."""

    shortfall: bool


@dataclass(frozen=True)
class Noticed:
    """Grace notices sent for the current period (one transaction)."""

    count: int


@dataclass
class Done:
    """What one subscription's work did (added to the Summary by the sweep's own thread)."""

    renewed: int = 0
    shortfalls: int = 0
    notices: int = 0
    error: bool = False


def sweep(remaining_ms: Callable[[], int]) -> Summary:
    """One run. `remaining_ms` (the Lambda context's clock) is only called from this thread."""
    now = clock.now()
    summary = Summary(as_of=to_iso(now))
    outgoing = Outgoing()
    gc.freeze()  # what the process held before the run is not garbage: collections skip it
    try:
        with ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="sweep") as pool:
            in_time = _renew_all(pool, summary, outgoing, now, remaining_ms)
    finally:
        gc.unfreeze()
    if not in_time:
        summary.complete = False
        logger.warning("sweep out of time; the next run resumes", extra=summary.as_dict())
    _publish(summary, outgoing, remaining_ms)
    if in_time:
        logger.info("sweep done", extra=summary.as_dict())
    return summary


def _renew_all(
    pool: ThreadPoolExecutor, summary: Summary, outgoing: Outgoing, now: datetime, remaining_ms: Callable[[], int]
) -> bool:
    """Every due subscription, WORKERS at a time; False if time ran out first. The next page is
    read while the last READ_BESIDE of the previous one are still in flight, so the workers do
    not wait for a read, and at most one page and READ_BESIDE renewals are held beside it (more
    overlap made the peak memory depend on what the 8 were doing at that moment). A subscription
    found again while it is in flight (a catch-up's later period moved it down the index) is
    left to the worker that has it, which renews everything due before it stops."""
    in_flight: dict[Future[Done], Key] = {}
    try:
        for shard in keys.renewal_shards():
            for page in store.due(shard, now, PAGE_SIZE):
                for found in page:
                    if remaining_ms() < SAFETY_MS:
                        return False
                    key = (found.org_id, found.product_id)
                    if key in in_flight.values():
                        continue
                    if len(in_flight) >= WORKERS:
                        _collect(in_flight, summary, FIRST_COMPLETED)
                    summary.due += 1
                    in_flight[_submit(pool, found, now, outgoing)] = key
                while len(in_flight) > READ_BESIDE:
                    _collect(in_flight, summary, FIRST_COMPLETED)
                del page  # not held while the next page is read: memory stays one page
                gc.collect()  # boto3 leaves cycles per call; collected per page, they never pile up
    finally:
        _collect(in_flight, summary, ALL_COMPLETED)
    return True


Key = tuple[str, str]  # (org_id, product_id): one subscription


def _submit(pool: ThreadPoolExecutor, found: store.Due, now: datetime, outgoing: Outgoing) -> Future[Done]:
    """Run in a worker with this thread's context (contextvars: logging keys, tracing)."""
    context = contextvars.copy_context()
    return pool.submit(context.run, _guarded, found, now, outgoing)


def _collect(in_flight: dict[Future[Done], Key], summary: Summary, until: str) -> None:
    """Wait for one (FIRST_COMPLETED) or all (ALL_COMPLETED) of `in_flight`, add what they did to the
    summary and leave in `in_flight` those still running. An exception that is not an Exception
    (the process is going down) is raised here, in the sweep's own thread."""
    if not in_flight:
        return
    done, _running = wait(in_flight, return_when=until)
    for future in done:
        del in_flight[future]
        result = future.result()
        summary.renewed += result.renewed
        summary.shortfalls += result.shortfalls
        summary.notices += result.notices
        summary.errors += int(result.error)


def _guarded(found: store.Due, now: datetime, outgoing: Outgoing) -> Done:
    done = Done()
    try:
        _process(found, now, done, outgoing)
    except Exception:
        done.error = True
        logger.exception(
            "renewal failed; retried next run", extra={"org_id": found.org_id, "product_id": found.product_id}
        )
    return done


def _process(found: store.Due, now: datetime, done: Done, outgoing: Outgoing) -> None:
    """Everything due for one subscription: renewals one period at a time, then grace notices.
    The first step decides from the index item; each next one from the state the previous one
    wrote; only a lost race (or an index item behind the table) reads the item itself."""
    state = found.state if found.state is not None else store.get_state(found.org_id, found.product_id)
    attempt = 0
    while state is not None and state.activated:
        try:
            outcome, state = _step(state, now, outgoing)
        except StaleState:
            attempt += 1
            wait_s = dynamo.backoff(attempt)
            if not dynamo.may_retry(attempt, wait_s, MAX_ATTEMPTS):
                raise Unavailable("the subscription kept changing under the sweep") from None
            deadline.sleep(wait_s)
            state = store.get_state(found.org_id, found.product_id)
            continue
        if outcome is None:
            return
        if isinstance(outcome, Renewed):
            done.renewed += 1
            done.shortfalls += int(outcome.shortfall)
        else:
            done.notices += outcome.count


def _step(state: ProductState, now: datetime, outgoing: Outgoing) -> tuple[Renewed | Noticed | None, ProductState]:
    """One decide-write: the next due renewal, else the grace notice due (None: nothing is due).
    Written at the instant of the write (not of the sweep's start), so that the events of a
    catch-up keep their order in history and on the bus."""
    if renewals_due(state, now) > 0:
        after, figures = renew_once(state)
        written = _commit(Change(state, after, [figures]), (), outgoing)
        return Renewed(shortfall=bool(figures.shortfall)), written
    after, notices = grace_notices(state, now)
    if not notices:
        return None, state
    written = _commit(Change(state, after, []), notices, outgoing)
    return Noticed(len(notices)), written


def _commit(change: Change, notices: Sequence[Notification], outgoing: Outgoing) -> ProductState:
    """The system's commit; once committed, its notifications go to `outgoing`, to be published
    without being read back."""
    return commit(None, change, SYSTEM_ACTOR, clock.now(), notices=notices, written=outgoing.add)


class Outgoing:
    """The notifications this run wrote, published PUBLISH_BATCH at a time as they come, one
    batch at a time in the order they were written (so one subscription's stay in order). What
    EventBridge refuses stays in the outbox for the next run; once it fails outright, nothing
    more is tried in this run."""

    def __init__(self) -> None:
        self._waiting: list[outbox.Pending] = []
        self._lock = threading.Lock()  # guards _waiting
        self._sending = threading.Lock()  # one batch on its way at a time, in order
        self.published = 0
        self.failed = 0  # notifications not published (EventBridge refused them, or was down)
        self.refused: set[str] = set()  # event ids tried this run and refused: not tried twice
        self.down = False

    def add(self, records: Iterable[outbox.Pending]) -> None:
        with self._lock:
            self._waiting.extend(records)
            full = len(self._waiting) >= PUBLISH_BATCH
        if full:
            self.flush(PUBLISH_BATCH)

    def flush(self, at_least: int = 1) -> None:
        """Publish what waits, in batches, while a batch of `at_least` is there."""
        with self._sending:
            while True:
                with self._lock:
                    if len(self._waiting) < at_least or not self._waiting:
                        return
                    batch, self._waiting = self._waiting[:PUBLISH_BATCH], self._waiting[PUBLISH_BATCH:]
                self.send(batch)

    def send(self, batch: Sequence[outbox.Pending]) -> None:
        if self.down:
            self.failed += len(batch)
            return
        try:
            accepted = set(event_bus.publish(batch))
            outbox.delete([p for p in batch if p.event_id in accepted])
        except Exception:
            self.down = True
            self.failed += len(batch)
            logger.exception("publishing notifications failed; retried next run")
            return
        self.published += len(accepted)
        refused = [p.event_id for p in batch if p.event_id not in accepted]
        self.failed += len(refused)
        self.refused.update(refused)

    @property
    def unsent(self) -> int:
        with self._lock:
            return len(self._waiting)


def measure_backlog(summary: Summary) -> None:
    """What the outbox still holds (normally nothing once a run has published)."""
    try:
        backlog, oldest = outbox.backlog()
    except Exception:
        logger.exception("could not measure the outbox backlog")
        return
    summary.outbox_backlog = backlog
    if oldest is not None:
        summary.outbox_oldest_age_s = max(0, int((clock.now() - oldest).total_seconds()))


def _publish(summary: Summary, outgoing: Outgoing, remaining_ms: Callable[[], int]) -> None:
    if remaining_ms() < SAFETY_MS // 3:
        summary.complete = False  # what this run wrote waits in the outbox for the next run
    else:
        outgoing.flush()
        _publish_left(summary, outgoing, remaining_ms)
    summary.published += outgoing.published
    summary.errors += outgoing.failed
    measure_backlog(summary)


def _publish_left(summary: Summary, outgoing: Outgoing, remaining_ms: Callable[[], int]) -> None:
    """Publish what else waits in the outbox (users' changes, earlier runs, a crash between a
    commit and its publication); what EventBridge refuses (or time forbids) waits for the next run."""
    for page in outbox.pending():
        if outgoing.down:
            return
        if remaining_ms() < SAFETY_MS // 3:
            summary.complete = False
            return
        left = [p for p in page if p.event_id not in outgoing.refused]
        if left:
            outgoing.send(left)

"""The renewal sweep (docs/rules.md, rule 6), run by the EventBridge schedule.

- Finds what is due through the sparse, write-sharded GSI2: no scan; cost follows what is due;
  one page at a time, so memory stays flat however much is due.
- Renews period by period, each renewal one transaction (state on its version + `renewed`
  history event by `system` + its notifications). Two sweeps at once, or one run twice, renew
  once: the loser's write fails its version condition, it re-reads and finds nothing left to do.
- Sends "grace ending soon" and "license lapsed" once per period.
- Stops cleanly when the Lambda is about to run out of time; the next run resumes, since whatever
  is left is still due in the index. One bad subscription is logged and counted; the rest go on.
- Publishes the outbox (notifications written by the sweep or by users' changes) to EventBridge.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime

from license_manager import clock, deadline
from license_manager.domain.errors import StaleState, Unavailable
from license_manager.domain.history import SYSTEM_ACTOR
from license_manager.domain.licensing import Change, ProductState, renew_once, renewals_due
from license_manager.domain.renewals import grace_notices
from license_manager.domain.timefmt import to_iso
from license_manager.observability import logger
from license_manager.services.unit_of_work import MAX_ATTEMPTS, commit
from license_manager.store import dynamo, keys, outbox
from license_manager.store import events as event_bus
from license_manager.store import licensing as store

SAFETY_MS = 15_000  # stop with this much time left: finish the item in hand and publish
PAGE_SIZE = 50


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


def sweep(remaining_ms: Callable[[], int]) -> Summary:
    now = clock.now()
    summary = Summary(as_of=to_iso(now))
    for shard in keys.renewal_shards():
        for page in store.due(shard, now, PAGE_SIZE):
            for org_id, product_id in page:
                if remaining_ms() < SAFETY_MS:
                    summary.complete = False
                    logger.warning("sweep out of time; the next run resumes", extra=summary.as_dict())
                    _publish(summary, remaining_ms)
                    return summary
                summary.due += 1
                try:
                    _process(org_id, product_id, now, summary)
                except Exception:
                    summary.errors += 1
                    logger.exception(
                        "renewal failed; retried next run", extra={"org_id": org_id, "product_id": product_id}
                    )
    _publish(summary, remaining_ms)
    logger.info("sweep done", extra=summary.as_dict())
    return summary


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


def _process(org_id: str, product_id: str, now: datetime, summary: Summary) -> None:
    """Everything due for one subscription: renewals one period at a time, then grace notices.
    Each step decides from the state the previous one wrote; only a lost race reads again."""
    state = store.get_state(org_id, product_id)
    attempt = 0
    while state is not None and state.activated:
        try:
            outcome, state = _step(state, now)
        except StaleState:
            attempt += 1
            wait = dynamo.backoff(attempt)
            if not dynamo.may_retry(attempt, wait, MAX_ATTEMPTS):
                raise Unavailable("the subscription kept changing under the sweep") from None
            deadline.sleep(wait)
            state = store.get_state(org_id, product_id)
            continue
        if outcome is None:
            return
        if isinstance(outcome, Renewed):
            summary.renewed += 1
            summary.shortfalls += int(outcome.shortfall)
        else:
            summary.notices += outcome.count


def _step(state: ProductState, now: datetime) -> tuple[Renewed | Noticed | None, ProductState]:
    """One decide-write: the next due renewal, else the grace notice due (None: nothing is due).
    Written at the instant of the write (not of the sweep's start), so that the events of a
    catch-up keep their order in history and on the bus."""
    if renewals_due(state, now) > 0:
        after, figures = renew_once(state)
        written = commit(None, Change(state, after, [figures]), SYSTEM_ACTOR, clock.now())
        return Renewed(shortfall=bool(figures.shortfall)), written
    after, notices = grace_notices(state, now)
    if not notices:
        return None, state
    written = commit(None, Change(state, after, []), SYSTEM_ACTOR, clock.now(), notices=notices)
    return Noticed(len(notices)), written


def _publish(summary: Summary, remaining_ms: Callable[[], int]) -> None:
    _publish_pages(summary, remaining_ms)
    measure_backlog(summary)


def _publish_pages(summary: Summary, remaining_ms: Callable[[], int]) -> None:
    """Publish waiting notifications; what EventBridge refuses (or time forbids) waits for the next run."""
    for page in outbox.pending():
        if remaining_ms() < SAFETY_MS // 3:
            summary.complete = False
            return
        try:
            accepted = event_bus.publish(page)
            outbox.delete(accepted)
            summary.published += len(accepted)
            summary.errors += len(page) - len(accepted)
        except Exception:
            summary.errors += len(page)
            logger.exception("publishing notifications failed; retried next run")
            return

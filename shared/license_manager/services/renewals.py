"""The renewal sweep (rule 6), run by the EventBridge schedule.

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

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime

from license_manager import clock, ids
from license_manager.domain.history import SYSTEM_ACTOR
from license_manager.domain.licensing import Change, renew_once, renewals_due
from license_manager.domain.renewals import Notification, grace_notices
from license_manager.observability import logger
from license_manager.services.licensing import events_of, outbox_of, retry_on_stale
from license_manager.store import events as event_bus
from license_manager.store import keys, outbox
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

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def sweep(remaining_ms: Callable[[], int], *, sleep: Callable[[float], None] = time.sleep) -> Summary:
    now = clock.now()
    summary = Summary(as_of=now.isoformat())
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
                    _process(org_id, product_id, now, summary, sleep)
                except Exception:
                    summary.errors += 1
                    logger.exception(
                        "renewal failed; retried next run", extra={"org_id": org_id, "product_id": product_id}
                    )
    _publish(summary, remaining_ms)
    logger.info("sweep done", extra=summary.as_dict())
    return summary


def _process(org_id: str, product_id: str, now: datetime, summary: Summary, sleep: Callable[[float], None]) -> None:
    """Everything due for one subscription: renewals one period at a time, then grace notices."""
    busy = "the subscription kept changing under the sweep"
    while (change := retry_on_stale(lambda: _step(org_id, product_id, now), busy=busy, sleep=sleep)) is not None:
        if not change.events:  # a grace notice: the last thing that can be due
            summary.notices += 1
            return
        summary.renewed += 1
        summary.shortfalls += int(bool(change.events[0].shortfall))


def _step(org_id: str, product_id: str, now: datetime) -> Change | None:
    """One read-decide-write: the next due renewal, else the grace notice due; None: nothing is due.
    Written at the instant of the write (not of the sweep's start), so that the events of a
    catch-up keep their order in history and on the bus."""
    state = store.get_state(org_id, product_id)
    if state is None or not state.activated:
        return None
    notices: list[Notification] = []
    if renewals_due(state, now) > 0:
        after, figures = renew_once(state)
        change = Change(state, after, [figures])
    else:
        after, notices = grace_notices(state, now)
        if not notices:
            return None
        change = Change(state, after, [])
    at = clock.now()
    extra = [outbox.put(n, ids.new_event_id(at, 60 + i), at) for i, n in enumerate(notices)]
    store.write(
        None, state.version, after, events_of(change, SYSTEM_ACTOR, at), outbox=[*outbox_of(change, at), *extra]
    )
    return change


def _publish(summary: Summary, remaining_ms: Callable[[], int]) -> None:
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

"""The renewal sweep, run by the EventBridge schedule (hourly by default).

A run with errors ends as a failed invocation (after its metrics are written), so Lambda's own
`Errors` metric sees it and the run lands in the failure queue; what failed is retried by the next
run either way (docs/operations.md, "Sweep errors")."""

from __future__ import annotations

import gc

gc.disable()  # until loaded(), below: no garbage collection while the modules load

import time
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from license_manager import deadline, loading, settings
from license_manager.observability import count, log_metrics, logger, tracer
from license_manager.services import renewals

settings.load()


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    logger.append_keys(schedule_time=event.get("time"))
    started = time.monotonic()
    with deadline.invocation(context.get_remaining_time_in_millis):
        summary = renewals.sweep(context.get_remaining_time_in_millis)
    record(summary, (time.monotonic() - started) * 1000)
    if summary.failed:
        raise renewals.SweepFailed(f"{summary.errors} renewal(s) or notification(s) failed; the next run retries them")
    return summary.as_dict()


def record(summary: renewals.Summary, duration_ms: float) -> None:
    """One run's figures as metrics: the heartbeat alarm watches SweepCompleted."""
    count("SweepDue", summary.due)
    count("SweepRenewed", summary.renewed)
    count("SweepShortfalls", summary.shortfalls)
    count("SweepNotices", summary.notices)
    count("SweepPublished", summary.published)
    count("SweepErrors", summary.errors)
    count("SweepCompleted", 1 if summary.complete and not summary.failed else 0)
    count("SweepDuration", duration_ms, MetricUnit.Milliseconds)
    count("OutboxBacklog", summary.outbox_backlog)
    count("OutboxOldestAge", summary.outbox_oldest_age_s, MetricUnit.Seconds)


loading.loaded()

"""Observability shared by every layer: structured logs, metrics and traces (Powertools).

- `logger`: JSON logs with the Lambda request id and, from `serve`, the correlation id, the
  caller's `sub` and the org id (settings: POWERTOOLS_* variables).
- `count()`: a business or error event as a CloudWatch metric (Embedded Metric Format, written
  with the logs: no API call), namespace LicenseManager. docs/operations.md lists them.
- `tracer`: X-Ray (Tracing: Active in template.yaml); each request's AWS calls (DynamoDB, KMS,
  EventBridge: botocore, the one library patched, not every library X-Ray knows) show as
  subsegments. Off outside Lambda.
"""

from __future__ import annotations

import functools
import os
import warnings
from collections.abc import Callable
from typing import Any, TypeVar, cast

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.metrics.functions import is_metrics_disabled

Handler = TypeVar("Handler", bound=Callable[..., Any])

NAMESPACE = "LicenseManager"
SERVICE = "license-manager"

logger = Logger(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)
tracer = Tracer(service=SERVICE, patch_modules=["botocore"])  # patch_all() also imports sqlite3, httplib...

# An invocation that changed nothing has no metric to publish; that is normal, not news.
warnings.filterwarnings("ignore", message="No application metrics to publish")


def log_metrics(handler: Handler) -> Handler:
    """Flush the invocation's metrics when it ends, and count cold starts; with metrics disabled
    (the dev server, the tests) not even the cold start is printed."""
    counted = metrics.log_metrics(handler, capture_cold_start_metric=True)
    quiet = metrics.log_metrics(handler)

    @functools.wraps(handler)
    def run(event: Any, context: Any) -> Any:  # decided per invocation, as the environment says now
        return (quiet if is_metrics_disabled() else counted)(event, context)

    return cast(Handler, run)


def count(name: str, value: float = 1, unit: MetricUnit = MetricUnit.Count, **dimensions: str) -> None:
    """Record `value` of metric `name` (with its own `dimensions`, if any) for this invocation.
    With POWERTOOLS_METRICS_DISABLED (the dev server, the tests) nothing is kept or printed."""
    if is_metrics_disabled():
        return
    if not dimensions:
        metrics.add_metric(name=name, unit=unit, value=value)
        return
    with single_metric(name=name, unit=unit, value=value, namespace=NAMESPACE) as metric:
        for key, dimension in dimensions.items():
            metric.add_dimension(name=key, value=dimension)


def count_by_function(name: str) -> None:
    """One `name`, counted for the whole service (what alarms watch) and per function (what the
    dashboard breaks it down by)."""
    count(name)
    count(name, function=os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "local"))

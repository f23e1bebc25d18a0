"""The renewal sweep, run by the EventBridge schedule (hourly by default)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from license_manager import deadline, settings
from license_manager.observability import logger
from license_manager.services import renewals

settings.load()


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    logger.append_keys(schedule_time=event.get("time"))
    with deadline.invocation(context.get_remaining_time_in_millis):
        return renewals.sweep(context.get_remaining_time_in_millis).as_dict()

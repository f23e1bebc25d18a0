"""The time budget of the current invocation.

A Lambda function is stopped at its timeout, whatever it is doing. So every retry loop (AWS
calls, transactions, optimistic read-decide-write) asks `allows()` before it waits and tries
again: a retry is made only if the wait plus the longest the next call can take still leaves
the margin needed to answer 503 with Retry-After. Outside an invocation (tools, tests that do
not set one) there is no deadline.

One request at a time per process (Lambda's model), so the deadline is a module-level cell.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

_remaining_ms: list[Callable[[], int] | None] = [None]


@contextmanager
def invocation(remaining_ms: Callable[[], int]) -> Iterator[None]:
    """The budget of one invocation: `remaining_ms` is the Lambda context's own clock."""
    _remaining_ms[0] = remaining_ms
    try:
        yield
    finally:
        _remaining_ms[0] = None


def remaining_s() -> float | None:
    """Seconds left in this invocation (None: no deadline)."""
    source = _remaining_ms[0]
    return None if source is None else source() / 1000


def allows(seconds: float, margin_s: float) -> bool:
    """Whether `seconds` more of work still leave `margin_s` to answer."""
    left = remaining_s()
    return left is None or left - seconds >= margin_s


def sleep(seconds: float) -> None:
    time.sleep(seconds)

"""The dev server runs functions as Lambda does: a request is run or refused, never run after its
answer; a function past its timeout is stopped."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from devserver.workers import Busy, Crashed, FunctionPool, TimedOut
from tools.template import Route


def pool(timeout: int, queue_timeout: float) -> FunctionPool:
    route = Route("Sleepy", "tests/fixtures/sleepy/", "app.lambda_handler", "POST", "/sleepy", True, timeout)
    return FunctionPool(route, {}, max_concurrency=1, queue_timeout=queue_timeout)


@pytest.fixture
def busy_pool() -> Iterator[FunctionPool]:
    functions = pool(timeout=10, queue_timeout=0.3)
    functions.warm()
    yield functions
    functions.close()


def test_a_request_refused_when_every_worker_is_busy_never_runs(busy_pool: FunctionPool, tmp_path: Path) -> None:
    # Given the only worker busy for a while
    first, second = tmp_path / "first", tmp_path / "second"
    running = threading.Thread(target=busy_pool.invoke, args=({"sleep": 1.5, "mark": str(first)}, 0.0))
    running.start()
    time.sleep(0.2)
    # When another request waits longer than the queue allows, Then it is refused
    with pytest.raises(Busy):
        busy_pool.invoke({"sleep": 0, "mark": str(second)}, 0.0)
    running.join()
    time.sleep(0.5)
    # and it never ran, not even once the worker became free
    assert first.exists()
    assert not second.exists()


def test_a_function_past_its_timeout_is_stopped_and_does_nothing_after(tmp_path: Path) -> None:
    functions = pool(timeout=1, queue_timeout=5)
    try:
        mark = tmp_path / "late"
        began = time.monotonic()
        with pytest.raises(TimedOut):
            functions.invoke({"sleep": 3, "mark": str(mark)}, 0.0)
        assert time.monotonic() - began < 3
        time.sleep(3)
        assert not mark.exists()  # killed: what it would have done after its timeout never happened
        # and the next request gets a fresh worker
        again = tmp_path / "again"
        assert functions.invoke({"sleep": 0, "mark": str(again)}, 0.0)["statusCode"] == 200
        assert again.exists()
    finally:
        functions.close()


def test_closing_stops_busy_workers_quickly(tmp_path: Path) -> None:
    functions = pool(timeout=30, queue_timeout=1)
    threading.Thread(target=lambda: _swallow(functions, tmp_path), daemon=True).start()
    time.sleep(1.5)  # the worker is started and busy for 20 s
    began = time.monotonic()
    functions.close()
    assert time.monotonic() - began < 5


def _swallow(functions: FunctionPool, tmp_path: Path) -> None:
    with contextlib.suppress(Crashed):  # the pool is closed under it
        functions.invoke({"sleep": 20, "mark": str(tmp_path / "long")}, 0.0)

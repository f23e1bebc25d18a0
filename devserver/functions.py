"""Load the real Lambda handlers from functions/<name>/app.py and run them as Lambda would."""

from __future__ import annotations

import importlib.util
import itertools
import multiprocessing
import signal
import time
import uuid
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from devserver.template import ROOT, Route
from license_manager import clock

_counter = itertools.count()


@dataclass
class FakeContext:
    """The attributes of a Lambda context that the code (and Powertools) reads."""

    function_name: str
    timeout_seconds: int
    memory_limit_in_mb: int = 512
    function_version: str = "$LATEST"
    aws_request_id: str = ""
    log_group_name: str = ""
    log_stream_name: str = "local"

    def __post_init__(self) -> None:
        self.aws_request_id = self.aws_request_id or str(uuid.uuid4())
        self.invoked_function_arn = f"arn:aws:lambda:local:000000000000:function:{self.function_name}"
        self.log_group_name = f"/aws/lambda/{self.function_name}"
        self._deadline = time.monotonic() + self.timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def load_module(code_uri: str, handler: str) -> ModuleType:
    module_name, _, _ = handler.rpartition(".")
    path = ROOT / code_uri / f"{module_name.replace('.', '/')}.py"
    spec = importlib.util.spec_from_file_location(f"_lambda_{Path(code_uri).name}_{next(_counter)}", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# -- execution environments: one process each -----------------------------------------------------
# Lambda runs one request at a time per execution environment, and code may rely on that:
# Powertools' resolver keeps the current event in a class attribute (BaseRouter.current_event),
# shared by every resolver in a process. So each function gets a pool of worker processes, each
# handling one request at a time, and concurrent requests run in separate processes, as in AWS.

_worker_handler: Any = None


def _worker_init(code_uri: str, handler: str) -> None:
    global _worker_handler  # noqa: PLW0603 - per-process state, like a Lambda environment's
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the server, which stops its workers
    module = load_module(code_uri, handler)
    _worker_handler = getattr(module, handler.rpartition(".")[2])


def _worker_invoke(event: dict[str, Any] | None, clock_offset: float, name: str, timeout: int) -> Any:
    clock.set_offset(clock_offset)
    if event is None:  # warm-up
        return None
    return _worker_handler(event, FakeContext(function_name=name, timeout_seconds=timeout))


class FunctionPool:
    """Up to `max_concurrency` worker processes for one function, started on demand."""

    def __init__(self, route: Route, max_concurrency: int) -> None:
        self.name = route.function
        self.timeout = route.timeout
        self._executor = ProcessPoolExecutor(
            max_workers=max_concurrency,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_worker_init,
            initargs=(route.code_uri, route.handler),
        )

    def warm(self) -> Future[Any]:
        return self._executor.submit(_worker_invoke, None, 0.0, self.name, self.timeout)

    def invoke(self, event: dict[str, Any], clock_offset: float) -> Any:
        future = self._executor.submit(_worker_invoke, event, clock_offset, self.name, self.timeout)
        return future.result(timeout=self.timeout + 30)

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)


def pools(routes: list[Route], max_concurrency: int) -> dict[str, FunctionPool]:
    by_function: dict[str, FunctionPool] = {}
    for route in routes:
        if route.function not in by_function:
            by_function[route.function] = FunctionPool(route, max_concurrency)
    for pool in by_function.values():
        pool.warm().result(timeout=120)  # import errors show at start-up, and the first request is warm
    return by_function

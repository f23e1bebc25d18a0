"""Load the real Lambda handlers from functions/<name>/app.py, as Lambda would.

Lambda runs one request at a time per execution environment, and Powertools resolvers keep the
current event on the module-level `app`. So each function gets a pool of environments (separate
module instances); a request borrows one, and a new one is loaded when all are busy.
"""

from __future__ import annotations

import importlib.util
import itertools
import queue
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from devserver.template import ROOT, Route

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


class FunctionPool:
    def __init__(self, route: Route) -> None:
        self.name = route.function
        self.code_uri = route.code_uri
        self.handler = route.handler
        self.timeout = route.timeout
        self._idle: queue.SimpleQueue[ModuleType] = queue.SimpleQueue()
        self._load_lock = threading.Lock()
        self._idle.put(self._load())  # load once up front: import errors show at start-up

    def _load(self) -> ModuleType:
        with self._load_lock:
            return load_module(self.code_uri, self.handler)

    def invoke(self, event: dict[str, Any]) -> Any:
        try:
            module = self._idle.get_nowait()
        except queue.Empty:
            module = self._load()
        try:
            fn = getattr(module, self.handler.rpartition(".")[2])
            return fn(event, FakeContext(function_name=self.name, timeout_seconds=self.timeout))
        finally:
            self._idle.put(module)


def pools(routes: list[Route]) -> dict[str, FunctionPool]:
    by_function: dict[str, FunctionPool] = {}
    for route in routes:
        if route.function not in by_function:
            by_function[route.function] = FunctionPool(route)
    return by_function

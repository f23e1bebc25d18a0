"""Lambda execution environments: one worker process per concurrent request, as in AWS.

Lambda runs one request at a time per execution environment, and code may rely on that:
Powertools' resolver keeps the current event in a class attribute shared by every resolver in a
process. So each function gets worker processes (spawned, with the function's own environment
from template.yaml), each handling one request at a time, started on demand up to a limit.

What Lambda guarantees and this keeps:
- A request is either run or refused. When every worker of a function is busy for longer than
  `queue_timeout`, the request is refused (the gateway answers 503) without ever being run, so
  nothing happens after its answer.
- A worker that exceeds the function's timeout is stopped (killed), as Lambda does; nothing it
  would have done after that happens. The gateway answers 504.
- Stopping is quick: every worker is told to stop at once, and killed if it has not within 1 s.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import queue
import signal
import threading
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

from license_manager import clock
from tools.functions import FakeContext, load_module
from tools.template import Route

_SPAWN = multiprocessing.get_context("spawn")


class Busy(Exception):
    """Every worker stayed busy: the request was not run."""


class TimedOut(Exception):
    """The function ran past its timeout and was stopped."""


class Crashed(Exception):
    """The worker process died (or its code raised outside the handler)."""


def _serve(conn: Connection, code_uri: str, handler: str, environment: dict[str, str]) -> None:
    """A worker process: import the handler once (its cold start), then one request at a time."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the server, which stops its workers
    os.environ.update(environment)
    try:
        module = load_module(code_uri, handler)
        function = getattr(module, handler.rpartition(".")[2])
        conn.send(("ready", None))
    except BaseException as err:  # reported to the parent, which shows it at start-up
        conn.send(("error", f"{type(err).__name__}: {err}"))
        return
    while True:
        try:
            message = conn.recv()
        except EOFError:
            return
        if message is None:
            return
        event, clock_offset, name, timeout = message
        clock.set_offset(clock_offset)
        try:
            conn.send(("ok", function(event, FakeContext(function_name=name, timeout_seconds=timeout))))
        except BaseException as err:  # the Lambda runtime reports errors the same way
            conn.send(("error", f"{type(err).__name__}: {err}"))


@dataclass(eq=False)  # each worker is itself (hashable by identity)
class _Worker:
    process: BaseProcess
    conn: Connection

    def stop(self, wait: float) -> None:
        with contextlib.suppress(OSError, ValueError):
            self.conn.send(None)
        self.process.join(wait)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(1)
        self.conn.close()


class FunctionPool:
    """Up to `max_concurrency` worker processes of one function."""

    def __init__(self, route: Route, environment: dict[str, str], max_concurrency: int, queue_timeout: float) -> None:
        self.name = route.function
        self.timeout = route.timeout
        self._route = route
        self._environment = environment
        self._queue_timeout = queue_timeout
        self._slots = threading.BoundedSemaphore(max_concurrency)
        self._idle: queue.LifoQueue[_Worker] = queue.LifoQueue()
        self._all: set[_Worker] = set()
        self._lock = threading.Lock()
        self._closed = False

    def _start(self) -> _Worker:
        parent, child = _SPAWN.Pipe()
        process = _SPAWN.Process(
            target=_serve,
            args=(child, self._route.code_uri, self._route.handler, self._environment),
            name=f"lambda-{self.name}",
            daemon=True,
        )
        process.start()
        child.close()
        worker = _Worker(process, parent)
        try:
            if not parent.poll(120):
                raise Crashed(f"{self.name} did not start in 120 s")
            status, detail = parent.recv()
        except (EOFError, OSError) as err:
            worker.stop(0)
            raise Crashed(f"{self.name} died while starting") from err
        if status != "ready":
            worker.stop(0)
            raise Crashed(f"{self.name} failed to start: {detail}")
        with self._lock:
            self._all.add(worker)
        return worker

    def _discard(self, worker: _Worker) -> None:
        with self._lock:
            self._all.discard(worker)
        worker.stop(0)

    def warm(self) -> None:
        """Start one worker now: import errors show at start-up, and the first request is warm."""
        self._idle.put(self._start())

    def invoke(self, event: dict[str, Any], clock_offset: float) -> Any:
        if self._closed or not self._slots.acquire(timeout=self._queue_timeout):
            raise Busy(f"every {self.name} worker stayed busy for {self._queue_timeout:.0f} s")
        try:
            try:
                worker = self._idle.get_nowait()
            except queue.Empty:
                worker = self._start()
            try:
                worker.conn.send((event, clock_offset, self.name, self.timeout))
                if not worker.conn.poll(self.timeout + 1):
                    self._discard(worker)  # Lambda stops a function at its timeout
                    raise TimedOut(f"{self.name} ran past its {self.timeout} s timeout and was stopped")
                status, result = worker.conn.recv()
            except (EOFError, OSError) as err:
                self._discard(worker)
                raise Crashed(f"{self.name} worker died: {err!r}") from err
            self._idle.put(worker)
            if status != "ok":
                raise Crashed(f"{self.name} raised {result}")
            return result
        finally:
            self._slots.release()

    def close(self) -> None:
        """Stop every worker at once (in parallel), killing those that do not stop in time."""
        self._closed = True
        with self._lock:
            workers = list(self._all)
        for worker in workers:
            with contextlib.suppress(OSError, ValueError):
                worker.conn.send(None)
        deadline = time.monotonic() + 1  # an environment has nothing to flush: then it is killed
        for worker in workers:
            worker.process.join(max(0.0, deadline - time.monotonic()))
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join(1)
            worker.conn.close()

"""An in-memory DynamoDB (moto) on a loopback port, one call at a time.

moto's backend is not safe under concurrent calls, while real DynamoDB makes each call (and each
transaction) atomic. A lock around every request gives the same guarantee: requests to the API
still run concurrently, and races between calls show up locally as they would in AWS.

It also does what moto leaves out and our code relies on: `TransactWriteItems` with a
`ClientRequestToken` is idempotent. When a response is lost (a client read timeout while the
lock was busy), botocore retries with the same token; DynamoDB answers the retry with the first
attempt's success instead of running it again, and so does this.
"""

from __future__ import annotations

import hashlib
import io
import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import BaseWSGIServer, make_server

from devserver import moto_patches

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

TOKEN_WINDOW_SECONDS = 600  # DynamoDB keeps a ClientRequestToken for 10 minutes
TOKENS_KEPT = 4096  # and so does this, up to that many: a retry comes seconds after its attempt


@dataclass(frozen=True, slots=True)
class _Answer:
    fingerprint: bytes  # SHA-256 of the request
    status: str
    body: bytes
    expires: float


class _TokenCache:
    """The answers of committed transactions by token, oldest first; what has expired, or is
    beyond the TOKENS_KEPT newest, is forgotten (so memory stays flat however many writes)."""

    def __init__(self) -> None:
        self._answers: OrderedDict[str, _Answer] = OrderedDict()
        self._headers: list[tuple[str, str]] = []

    def lookup(self, token: str) -> tuple[_Answer, list[tuple[str, str]]] | None:
        now = time.monotonic()
        while self._answers and next(iter(self._answers.values())).expires <= now:
            self._answers.popitem(last=False)
        answer = self._answers.get(token)
        return None if answer is None else (answer, self._headers)

    def remember(self, token: str, answer: _Answer, headers: list[tuple[str, str]]) -> None:
        self._answers[token] = answer
        self._headers = [(k, v) for k, v in headers if k.lower() != "x-amzn-requestid"]
        while len(self._answers) > TOKENS_KEPT:
            self._answers.popitem(last=False)


def _mismatch() -> tuple[str, list[tuple[str, str]], bytes]:
    body = json.dumps(
        {
            "__type": "com.amazonaws.dynamodb.v20120810#IdempotentParameterMismatchException",
            "message": "The request uses the same client token as a previous, but non-identical request.",
        }
    ).encode()
    return "400 Bad Request", [("Content-Type", "application/x-amz-json-1.0")], body


Observer = Callable[[str, bytes, str, bytes], None]  # (X-Amz-Target, request, status, answer)


def serialized(app: WsgiApp, lock: threading.Lock, observers: list[Observer] | None = None) -> WsgiApp:
    cache = _TokenCache()
    watching = observers if observers is not None else []

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(raw)
        token = None
        if environ.get("HTTP_X_AMZ_TARGET", "").endswith(".TransactWriteItems"):
            token = json.loads(raw or b"{}").get("ClientRequestToken")
        captured: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[..., Any]:
            captured["status"], captured["headers"] = status, headers
            return lambda _data: None

        with lock:
            if token:
                fingerprint = hashlib.sha256(raw).digest()
                earlier = cache.lookup(token)
                if earlier is not None:
                    answer, answer_headers = earlier
                    if answer.fingerprint != fingerprint:
                        status, headers, body = _mismatch()
                    else:
                        status, headers, body = answer.status, answer_headers, answer.body
                    start_response(status, headers)
                    return [body]
            result = app(environ, capture)
            try:
                body = b"".join(result)  # produce the whole answer inside the lock
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
            if token and captured["status"].startswith("200"):
                answer = _Answer(fingerprint, captured["status"], body, time.monotonic() + TOKEN_WINDOW_SECONDS)
                cache.remember(token, answer, captured["headers"])
            for observe in watching:  # the benchmarks count calls and items read this way
                observe(environ.get("HTTP_X_AMZ_TARGET", ""), raw, captured["status"], body)
        start_response(captured["status"], captured["headers"])
        return [body]

    return wsgi


class EmbeddedDynamo:
    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.lock = threading.Lock()
        self.observers: list[Observer] = []  # called with every call, inside the lock
        moto_patches.apply()  # before moto serves anything: see devserver/moto_patches.py
        app = serialized(DomainDispatcherApplication(create_backend_app), self.lock, self.observers)
        self._server: BaseWSGIServer = make_server(host, port, app, threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, name="dynamodb", daemon=True)

    @property
    def endpoint_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host.decode() if isinstance(host, bytes) else host}:{port}"

    def start(self) -> EmbeddedDynamo:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(timeout=5)

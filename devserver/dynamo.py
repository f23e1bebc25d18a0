"""An in-memory DynamoDB (moto) on a loopback port, one call at a time.

moto's backend is not safe under concurrent calls, while real DynamoDB makes each call (and each
transaction) atomic. A lock around every request gives the same guarantee: requests to the API
still run concurrently, and races between calls show up locally as they would in AWS.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import BaseWSGIServer, make_server

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def serialized(app: WsgiApp, lock: threading.Lock) -> WsgiApp:
    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        with lock:
            result = app(environ, start_response)
            try:
                body = b"".join(result)  # produce the whole answer inside the lock
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
        return [body]

    return wsgi


class EmbeddedDynamo:
    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.lock = threading.Lock()
        app = serialized(DomainDispatcherApplication(create_backend_app), self.lock)
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

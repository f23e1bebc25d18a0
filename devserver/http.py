"""The dev server's HTTP/1.1 front: parses requests strictly, answers every error as
problem+json, and never lets one request's bytes be read as the next one's.

- Any method reaches the gateway (unknown ones end at the catch-all route, a problem+json 404,
  as in API Gateway); errors of the HTTP layer itself (a bad request line, headers too large)
  are problem+json too.
- A body is framed by exactly one valid Content-Length, or by chunked Transfer-Encoding; anything
  else (both, several lengths, `abc`, `-1`) is 400 and the connection is closed. A body over the
  limit is 413 and the connection is closed without reading it.
- A client that stops sending mid-request is dropped after a timeout.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import sys
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from devserver.gateway import Answer, Request, problem

MAX_BODY = 1024 * 1024  # API Gateway takes up to 10 MB; nothing here needs more than 1 MB
_DIGITS = re.compile(r"^[0-9]{1,10}$")


class _Refused(Exception):
    def __init__(self, answer: Answer) -> None:
        super().__init__(answer[0])
        self.answer = answer


def _too_large() -> _Refused:
    return _Refused(problem(413, "Payload too large", f"The body is over {MAX_BODY // 1024} KB."))


def _bad_framing(detail: str) -> _Refused:
    return _Refused(problem(400, "Bad request", detail))


class Handler(BaseHTTPRequestHandler):
    """One connection; `route` (set by make_handler) answers each request."""

    route: Callable[[Request], Answer]
    protocol_version = "HTTP/1.1"
    server_version = "LicenseManagerDev/1.0"
    timeout = 30  # seconds a client may pause mid-request

    def __getattr__(self, name: str) -> Any:
        if name.startswith("do_"):  # every method goes to the gateway
            return self._serve
        raise AttributeError(name)

    def _read_chunked(self) -> bytes:
        body = bytearray()
        while True:
            line = self.rfile.readline(64).strip()
            size_text = line.split(b";", 1)[0]
            if not re.fullmatch(rb"[0-9a-fA-F]{1,8}", size_text):
                raise _bad_framing("A chunk size is not valid.")
            size = int(size_text, 16)
            if size == 0:
                while self.rfile.readline(1024).strip():  # trailers
                    pass
                return bytes(body)
            if len(body) + size > MAX_BODY:
                raise _too_large()
            body += self.rfile.read(size)
            if self.rfile.read(2) != b"\r\n":
                raise _bad_framing("A chunk does not end where its size says.")

    def _read_body(self) -> bytes:
        lengths = self.headers.get_all("content-length") or []
        chunked = self.headers.get("transfer-encoding")
        if chunked is not None:
            if lengths or chunked.strip().lower() != "chunked":
                raise _bad_framing("Send either Content-Length or Transfer-Encoding: chunked, not both.")
            return self._read_chunked()
        if not lengths:
            return b""
        if len(set(lengths)) != 1 or not _DIGITS.match(lengths[0].strip()):
            raise _bad_framing("Content-Length must be one whole number of bytes.")
        length = int(lengths[0])
        if length > MAX_BODY:
            raise _too_large()
        body = self.rfile.read(length) if length else b""
        if len(body) != length:
            raise _bad_framing("The body ended before its Content-Length.")
        return body

    def _serve(self) -> None:
        try:
            body = self._read_body()
        except _Refused as refused:
            self.close_connection = True  # the rest of the stream cannot be trusted
            self._send(*refused.answer)
            self._linger()
            return
        headers: dict[str, str] = {}
        for name, value in self.headers.items():
            key = name.lower()
            headers[key] = f"{headers[key]},{value}" if key in headers else value
        try:
            answer = self.route(Request(self.command, self.path, headers, body, self.client_address[0]))
        except Exception as err:  # the gateway itself failed: still answer, like API Gateway's 500
            print(f"dev server error: {err!r}", file=sys.stderr)
            answer = problem(500, "Internal error", "The local gateway failed.")
        self._send(*answer)

    def _send(self, status: int, headers: dict[str, str], payload: bytes) -> None:
        no_body = status in (204, 304) or 100 <= status < 200
        self.send_response(status)
        for name, value in headers.items():
            if name not in {"content-length", "connection", "transfer-encoding"}:
                self.send_header(name, value)
        if self.close_connection:
            self.send_header("connection", "close")
        if not no_body:
            self.send_header("content-length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD" and not no_body:
            self.wfile.write(payload)

    def _linger(self) -> None:
        """Close gently: stop sending, then read and drop what the client is still sending for a
        moment, so that closing does not reset the connection before the client reads the answer."""
        with contextlib.suppress(OSError):
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_WR)
            self.connection.settimeout(1)
            deadline = time.monotonic() + 2
            while time.monotonic() < deadline and self.connection.recv(65536):
                pass

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Errors of the HTTP layer itself (bad request line, headers too long...), as problem+json."""
        self.close_connection = True
        title = {400: "Bad request", 414: "URI too long", 431: "Headers too large", 501: "Not implemented"}
        self._send(*problem(code, title.get(code, "Bad request"), message or explain or "The request was refused."))

    def log_message(self, format: str, *args: Any) -> None:
        if os.environ.get("DEV_ACCESS_LOG", "1") != "0":
            sys.stderr.write(f"{self.address_string()} {format % args}\n")


def make_handler(route: Callable[[Request], Answer]) -> type[BaseHTTPRequestHandler]:
    return type("RoutedHandler", (Handler,), {"route": staticmethod(route)})


class HttpServer(ThreadingHTTPServer):
    # the listen backlog: the default (5) resets connections when many clients arrive at once
    request_queue_size = 512
    daemon_threads = True

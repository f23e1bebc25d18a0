"""The local gateway: routes from template.yaml, API Gateway HTTP API v2 events, real handlers.

python -m devserver            (make dev)    PORT overrides 3000
"""

from __future__ import annotations

import base64
import json
import logging
import os
import signal
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import boto3

from devserver import tokens
from devserver.dynamo import EmbeddedDynamo
from devserver.functions import FunctionPool, pools
from devserver.openapi import render
from devserver.template import Route, create_table, routes, scheduled_functions
from license_manager import clock
from license_manager.domain.timefmt import parse_iso, to_iso
from license_manager.store.events import SOURCE

PROBLEM = "application/problem+json"
MAX_BODY = 1024 * 1024  # API Gateway HTTP APIs accept up to 10 MB; nothing here needs more than 1 MB
TABLE_NAME = "license-manager-local"


def _problem(status: int, title: str, detail: str) -> tuple[int, dict[str, str], bytes]:
    body = {
        "type": "urn:license-manager:problem:" + title.lower().replace(" ", "-"),
        "title": title,
        "status": status,
        "detail": detail,
    }
    return status, {"content-type": PROBLEM}, json.dumps(body).encode()


def _json(status: int, body: object) -> tuple[int, dict[str, str], bytes]:
    return status, {"content-type": "application/json"}, json.dumps(body).encode()


@dataclass(frozen=True)
class Request:
    method: str
    target: str  # path and query, as received
    headers: dict[str, str]  # lower-case names
    body: bytes
    client_ip: str

    @property
    def path(self) -> str:
        return urlsplit(self.target).path or "/"

    @property
    def query(self) -> str:
        return urlsplit(self.target).query


def api_event(route: Route, params: dict[str, str], request: Request, claims: dict[str, str] | None) -> dict[str, Any]:
    """An API Gateway HTTP API payload v2.0 event, as the AWS proxy integration sends it."""
    now = datetime.now(UTC)
    query: dict[str, str] = {}
    for name, value in parse_qsl(request.query, keep_blank_values=True):
        query[name] = f"{query[name]},{value}" if name in query else value
    cookies = [c.strip() for c in request.headers.get("cookie", "").split(";") if c.strip()]
    try:
        text, is_b64 = request.body.decode("utf-8"), False
    except UnicodeDecodeError:
        text, is_b64 = base64.b64encode(request.body).decode(), True
    request_context: dict[str, Any] = {
        "accountId": "000000000000",
        "apiId": "local",
        "domainName": "127.0.0.1",
        "domainPrefix": "127",
        "http": {
            "method": request.method,
            "path": request.path,
            "protocol": "HTTP/1.1",
            "sourceIp": request.client_ip,
            "userAgent": request.headers.get("user-agent", ""),
        },
        "requestId": str(uuid.uuid4()),
        "routeKey": route.route_key,
        "stage": "$default",
        "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
        "timeEpoch": int(now.timestamp() * 1000),
    }
    if claims is not None:
        request_context["authorizer"] = {"jwt": {"claims": claims, "scopes": None}}
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route.route_key,
        "rawPath": request.path,
        "rawQueryString": request.query,
        "headers": {k: v for k, v in request.headers.items() if k != "cookie"},
        "requestContext": request_context,
        "isBase64Encoded": is_b64,
    }
    if cookies:
        event["cookies"] = cookies
    if query:
        event["queryStringParameters"] = query
    if params:
        event["pathParameters"] = params
    if request.body:
        event["body"] = text
    return event


def scheduled_event(now: datetime, function: str) -> dict[str, Any]:
    """An EventBridge scheduled event (the shape of `sam local generate-event eventbridge scheduled`)."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "000000000000",
        "time": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": os.environ.get("AWS_DEFAULT_REGION", "eu-north-1"),
        "resources": [f"arn:aws:events:local:000000000000:rule/{function}-schedule"],
        "detail": {},
    }


class DevApi:
    """Everything the HTTP handler needs; independent of sockets, so it is easy to reason about."""

    def __init__(self, port: int, notifications: NotificationSink) -> None:
        self.notifications = notifications
        self.clock = clock
        self.port = port
        self.routes: list[Route] = sorted(routes(), key=lambda r: r.specificity, reverse=True)
        self.fallback = next((r for r in self.routes if r.path is None), None)
        concurrency = int(os.environ.get("DEV_CONCURRENCY", "8"))
        self.scheduled = scheduled_functions()
        self.pools: dict[str, FunctionPool] = pools([*self.routes, *self.scheduled], concurrency)
        self.issuer = tokens.TokenIssuer()
        self.openapi = render().encode()

    # -- routing ---------------------------------------------------------------------------------
    def handle(self, request: Request) -> tuple[int, dict[str, str], bytes]:
        if request.path.startswith("/_dev/"):
            return self._dev(request.method, request.path, request.body)
        if request.path == "/openapi.json" and request.method == "GET":
            return 200, {"content-type": "application/json"}, self.openapi
        for route in self.routes:
            params = route.match(request.method, request.path)
            if params is not None:
                return self._invoke(route, params, request)
        if self.fallback is not None:
            return self._invoke(self.fallback, {}, request)
        return _problem(404, "Not found", f"No route for {request.method} {request.path}.")

    def _invoke(self, route: Route, params: dict[str, str], request: Request) -> tuple[int, dict[str, str], bytes]:
        claims: dict[str, str] | None = None
        if route.authorized:
            scheme, _, token = request.headers.get("authorization", "").partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                return self._unauthorized("Send Authorization: Bearer <token> (get one from POST /_dev/token).")
            try:
                claims = tokens.authorizer_claims(self.issuer.verify(token.strip()))
            except tokens.InvalidToken as err:
                return self._unauthorized(f"The token was refused: {err}.")
        event = api_event(route, params, request, claims)
        result = self.pools[route.function].invoke(event, self.clock.offset_seconds())
        return self._response(result)

    def _unauthorized(self, detail: str) -> tuple[int, dict[str, str], bytes]:
        status, hdrs, payload = _problem(401, "Unauthorized", detail)
        hdrs["www-authenticate"] = 'Bearer realm="license-manager"'
        return status, hdrs, payload

    @staticmethod
    def _response(result: Any) -> tuple[int, dict[str, str], bytes]:
        if not isinstance(result, dict) or "statusCode" not in result:
            # HTTP API payload 2.0 also accepts a bare JSON value as a 200
            return _json(200, result)
        headers = {k.lower(): str(v) for k, v in (result.get("headers") or {}).items()}
        for name, values in (result.get("multiValueHeaders") or {}).items():
            headers[name.lower()] = ", ".join(str(v) for v in values)
        raw = result.get("body") or ""
        payload = base64.b64decode(raw) if result.get("isBase64Encoded") else str(raw).encode()
        if result.get("cookies"):
            headers["set-cookie"] = "; ".join(result["cookies"])
        return int(result["statusCode"]), headers, payload

    # -- /_dev ---------------------------------------------------------------------------------
    def _dev(self, method: str, path: str, body: bytes) -> tuple[int, dict[str, str], bytes]:
        try:
            data = json.loads(body or b"{}")
        except ValueError:
            return _problem(400, "Malformed JSON", "The request body is not valid JSON.")
        if not isinstance(data, dict):
            return _problem(422, "Invalid request", "The body must be a JSON object.")
        if path == "/_dev/token" and method == "POST":
            return self._token(data)
        if path == "/_dev/clock" and method == "GET":
            return _json(200, {"now": self._now()})
        if path == "/_dev/clock" and method == "POST":
            return self._set_clock(data)
        if path == "/_dev/renewal-sweep" and method == "POST":
            return self._sweep()
        if path == "/_dev/notifications" and method == "GET":
            return _json(200, {"notifications": self.notifications.drain()})
        return _problem(404, "Not found", f"No dev route for {method} {path}.")

    def _now(self) -> str:
        return to_iso(self.clock.now())

    def _sweep(self) -> tuple[int, dict[str, str], bytes]:
        """Run the renewal function once, as the schedule would, at the dev clock."""
        if not self.scheduled:
            return _problem(404, "Not found", "template.yaml has no scheduled function.")
        function = self.scheduled[0]
        event = scheduled_event(self.clock.now(), function.function)
        summary = self.pools[function.function].invoke(event, self.clock.offset_seconds())
        return _json(200, summary)

    def _token(self, data: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
        email = data.get("email")
        groups = data.get("groups", [])
        ttl = data.get("ttl_seconds", tokens.DEFAULT_TTL)
        if not isinstance(email, str) or "@" not in email:
            return _problem(422, "Invalid request", "email: an email address is required.")
        if not isinstance(groups, list) or not all(isinstance(g, str) and g and " " not in g for g in groups):
            return _problem(422, "Invalid request", "groups: a list of group names without spaces.")
        if not isinstance(ttl, int) or isinstance(ttl, bool) or not 1 <= ttl <= 7 * 86400:
            return _problem(422, "Invalid request", "ttl_seconds: an integer from 1 to 604800.")
        token, exp = self.issuer.issue(email, groups, ttl)
        return _json(200, {"token": token, "expires_at": datetime.fromtimestamp(exp, UTC).isoformat()})

    def _set_clock(self, data: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
        if "now" not in data:
            return _problem(422, "Invalid request", "now: an ISO 8601 instant with an offset, or null for real time.")
        value = data["now"]
        try:
            instant = None if value is None else parse_iso(str(value))
        except ValueError:
            return _problem(422, "Invalid request", "now: an ISO 8601 instant with an offset, or null for real time.")
        self.clock.set_now(instant)
        return _json(200, {"now": self._now()})


def make_handler(api: DevApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "LicenseManagerDev/1.0"

        def _serve(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            if length > MAX_BODY:
                status, headers, payload = _problem(413, "Payload too large", "The body is over 1 MB.")
            else:
                body = self.rfile.read(length) if length else b""
                hdrs: dict[str, str] = {}
                for name, value in self.headers.items():
                    key = name.lower()
                    hdrs[key] = f"{hdrs[key]},{value}" if key in hdrs else value
                try:
                    request = Request(self.command, self.path, hdrs, body, self.client_address[0])
                    status, headers, payload = api.handle(request)
                except Exception as err:  # the gateway itself failed: still answer, like API Gateway's 500
                    print(f"dev server error: {err!r}", file=sys.stderr)
                    status, headers, payload = _problem(500, "Internal error", "The local gateway failed.")
            self.send_response(status)
            for name, value in headers.items():
                if name not in {"content-length", "connection", "transfer-encoding"}:
                    self.send_header(name, value)
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _serve

        def log_message(self, format: str, *args: Any) -> None:
            if os.environ.get("DEV_ACCESS_LOG", "1") != "0":
                sys.stderr.write(f"{self.address_string()} {format % args}\n")

    return Handler


def configure_environment(endpoint_url: str, events_endpoint_url: str) -> None:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's per-call access log
    os.environ["TABLE_NAME"] = os.environ.get("TABLE_NAME", TABLE_NAME)
    os.environ["DYNAMODB_ENDPOINT_URL"] = endpoint_url
    os.environ["EVENTS_ENDPOINT_URL"] = events_endpoint_url
    os.environ.setdefault("AWS_DEFAULT_REGION", "eu-north-1")
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "local")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "local")
    os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "license-manager")
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")


def ensure_table(endpoint_url: str) -> None:
    client = boto3.client("dynamodb", endpoint_url=endpoint_url)
    if os.environ["TABLE_NAME"] not in client.list_tables()["TableNames"]:
        create_table(client, os.environ["TABLE_NAME"])


class NotificationSink:
    """What the functions publish to EventBridge, caught by a rule into a queue of the embedded AWS."""

    def __init__(self, endpoint_url: str) -> None:
        self._events = boto3.client("events", endpoint_url=endpoint_url)
        self._sqs = boto3.client("sqs", endpoint_url=endpoint_url)
        self._queue = self._sqs.create_queue(QueueName="license-manager-notifications")["QueueUrl"]
        arn = self._sqs.get_queue_attributes(QueueUrl=self._queue, AttributeNames=["QueueArn"])["Attributes"]
        self._events.put_rule(Name="license-manager-notifications", EventPattern=json.dumps({"source": [SOURCE]}))
        self._events.put_targets(Rule="license-manager-notifications", Targets=[{"Id": "dev", "Arn": arn["QueueArn"]}])

    def drain(self) -> list[dict[str, Any]]:
        """Notifications published since the last call, oldest first."""
        found: list[dict[str, Any]] = []
        while True:
            messages = self._sqs.receive_message(QueueUrl=self._queue, MaxNumberOfMessages=10).get("Messages", [])
            if not messages:
                break
            for message in messages:
                body = json.loads(message["Body"])
                found.append({"detail_type": body["detail-type"], "source": body["source"], "detail": body["detail"]})
                self._sqs.delete_message(QueueUrl=self._queue, ReceiptHandle=message["ReceiptHandle"])
        return sorted(found, key=lambda n: str(n["detail"].get("event_id", "")))


class _HttpServer(ThreadingHTTPServer):
    # the listen backlog: the default (5) resets connections when many clients arrive at once
    request_queue_size = 512
    daemon_threads = True


class DevServer:
    """The whole local stack; used by `python -m devserver` and by the e2e tests."""

    def __init__(self, host: str = "127.0.0.1", port: int = 3000) -> None:
        external = os.environ.get("DYNAMODB_ENDPOINT_URL")
        # the embedded AWS (moto) always serves EventBridge and SQS; DynamoDB too unless pointed elsewhere
        self.dynamo = EmbeddedDynamo().start()
        endpoint = external or self.dynamo.endpoint_url
        configure_environment(endpoint, self.dynamo.endpoint_url)
        ensure_table(endpoint)
        self.api = DevApi(port, NotificationSink(self.dynamo.endpoint_url))
        self.httpd = _HttpServer((host, port), make_handler(self.api))
        self.url = f"http://{host}:{self.httpd.server_address[1]}"

    def serve_forever(self) -> None:
        self.httpd.serve_forever(poll_interval=0.2)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        for pool in self.api.pools.values():
            pool.close()
        self.dynamo.stop()


def main() -> int:
    port = int(os.environ.get("PORT", "3000"))
    external = os.environ.get("DYNAMODB_ENDPOINT_URL")
    started = time.monotonic()
    try:
        server = DevServer(port=port)
    except OSError as err:
        print(f"cannot listen on 127.0.0.1:{port}: {err} (set PORT to use another port)", file=sys.stderr)
        return 1
    stop = threading.Event()

    def _stop(*_: object) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    thread = threading.Thread(target=server.serve_forever, name="http", daemon=True)
    thread.start()
    url = server.url
    print(
        f"License Manager API ready on {url} in {time.monotonic() - started:.1f}s "
        f"({len(server.api.routes)} routes from template.yaml; DynamoDB "
        f"{os.environ['DYNAMODB_ENDPOINT_URL'] if external else 'embedded (moto)'})\n"
        f"Try:\n"
        f'  TOKEN=$(curl -s -X POST {url}/_dev/token --json \'{{"email":"alice@example.com"}}\' | '
        f"python3 -c 'import json,sys; print(json.load(sys.stdin)[\"token\"])')\n"
        f'  curl -s {url}/products -H "Authorization: Bearer $TOKEN"\n'
        f"OpenAPI: {url}/openapi.json  -  Ctrl-C stops.",
        flush=True,
    )
    while not stop.wait(0.5):  # a timeout keeps the main thread responsive to signals
        pass
    print("stopping...", flush=True)
    server.close()
    print("stopped.", flush=True)
    return 0

"""Plays API Gateway (HTTP API): routes from template.yaml, the JWT authorizer, payload 2.0 events
to the real handlers, and their answers back to HTTP."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from devserver import tokens
from devserver.workers import Busy, Crashed, FunctionPool, TimedOut
from license_manager import clock
from license_manager.api.problems import PROBLEM_CONTENT_TYPE, problem_json
from tools.template import Route

Answer = tuple[int, dict[str, str], bytes]


def problem(status: int, title: str, detail: str, headers: dict[str, str] | None = None) -> Answer:
    return (
        status,
        {"content-type": PROBLEM_CONTENT_TYPE, **(headers or {})},
        problem_json(status, title, detail).encode(),
    )


def json_answer(status: int, body: object) -> Answer:
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


def http_answer(result: Any) -> Answer:
    """A Lambda proxy result (payload 2.0) as HTTP."""
    if not isinstance(result, dict) or "statusCode" not in result:
        return json_answer(200, result)  # payload 2.0 also accepts a bare JSON value as a 200
    headers = {k.lower(): str(v) for k, v in (result.get("headers") or {}).items()}
    for name, values in (result.get("multiValueHeaders") or {}).items():
        headers[name.lower()] = ", ".join(str(v) for v in values)
    raw = result.get("body") or ""
    payload = base64.b64decode(raw) if result.get("isBase64Encoded") else str(raw).encode()
    if result.get("cookies"):
        headers["set-cookie"] = "; ".join(result["cookies"])
    return int(result["statusCode"]), headers, payload


class Gateway:
    """Routes a request to its function, as API Gateway does, and answers for it when it cannot."""

    def __init__(self, routes: list[Route], pools: dict[str, FunctionPool], issuer: tokens.TokenIssuer) -> None:
        self.routes = sorted((r for r in routes if r.path is not None), key=lambda r: r.specificity, reverse=True)
        self.fallback = next((r for r in routes if r.path is None), None)
        self.pools = pools
        self.issuer = issuer

    def handle(self, request: Request) -> Answer:
        for route in self.routes:
            params = route.match(request.method, request.path)
            if params is not None:
                return self._invoke(route, params, request)
        if self.fallback is not None:
            return self._invoke(self.fallback, {}, request)
        return problem(404, "Not found", f"No route for {request.method} {request.path}.")

    def _invoke(self, route: Route, params: dict[str, str], request: Request) -> Answer:
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
        return self.run(route.function, event, http_answer)

    def run(self, function: str, event: dict[str, Any], convert: Callable[[Any], Answer]) -> Answer:
        """Invoke `function` with `event`; what Lambda itself would answer when it cannot."""
        try:
            result = self.pools[function].invoke(event, clock.offset_seconds())
        except Busy as err:  # never run: safe to retry
            return problem(503, "Service busy", f"{err}; retry in a moment.", {"retry-after": "1"})
        except TimedOut as err:
            return problem(504, "Function timed out", str(err))
        except Crashed as err:
            print(f"dev server: {err}", flush=True)
            return problem(502, "Function failed", "The function crashed; see the dev server's output.")
        return convert(result)

    @staticmethod
    def _unauthorized(detail: str) -> Answer:
        return problem(401, "Unauthorized", detail, {"www-authenticate": 'Bearer realm="license-manager"'})

"""Event builders, a fake Lambda context, handler invocation and a tiny HTTP client for tests."""

from __future__ import annotations

import copy
import json
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import quote, urlencode

import pytest

from license_manager.store import dynamo
from tools.functions import FakeContext, load_module

EVENTS = Path(__file__).parent / "events"


def unique_email(prefix: str = "user") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}@example.com"


def claims_for(email: str, groups: list[str] | None = None) -> dict[str, str]:
    """Claims as the HTTP API JWT authorizer passes them: strings, arrays as one bracketed string."""
    claims = {
        "sub": str(uuid.uuid5(uuid.NAMESPACE_URL, email)),
        "email": email,
        "email_verified": "true",
        "token_use": "id",
        "iss": "https://cognito-idp.eu-north-1.amazonaws.com/eu-north-1_test",
    }
    if groups is not None:
        claims["cognito:groups"] = "[" + " ".join(groups) + "]"
    return claims


@cache
def _template_event() -> dict[str, Any]:
    return dict(json.loads((EVENTS / "http-api-proxy.json").read_text()))


def http_event(
    method: str,
    path: str,
    *,
    body: Any = None,
    raw_body: str | None = None,
    claims: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    content_type: str = "application/json",
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """An API Gateway HTTP API (payload 2.0) event, based on SAM's generated one."""
    event = copy.deepcopy(_template_event())
    event["routeKey"] = f"{method} {path}"
    event["rawPath"] = path
    event["rawQueryString"] = urlencode(query or {})
    event["requestContext"]["http"]["method"] = method
    event["requestContext"]["http"]["path"] = path
    event["requestContext"]["routeKey"] = event["routeKey"]
    event["requestContext"]["requestId"] = str(uuid.uuid4())
    event["headers"] = {"content-type": content_type} if (body is not None or raw_body is not None) else {}
    event["headers"].update({k.lower(): v for k, v in (headers or {}).items()})  # API Gateway lower-cases names
    event.pop("cookies", None)
    event.pop("pathParameters", None)
    event.pop("stageVariables", None)
    event["queryStringParameters"] = dict(query) if query else None
    if claims is None:
        event["requestContext"].pop("authorizer", None)
    else:
        event["requestContext"]["authorizer"] = {"jwt": {"claims": claims, "scopes": None}}
    text = raw_body if raw_body is not None else (json.dumps(body) if body is not None else None)
    event["body"] = text
    event["isBase64Encoded"] = False
    return event


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: Any

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")


@cache
def function_module(name: str) -> ModuleType:
    return load_module(f"functions/{name}/", "app.lambda_handler")


def invoke(function: str, event: dict[str, Any]) -> Reply:
    """Call a function's real lambda_handler in-process and decode its HTTP answer."""
    result = function_module(function).lambda_handler(event, FakeContext(function_name=function, timeout_seconds=10))
    headers = {k.lower(): v for k, v in (result.get("headers") or {}).items()}
    raw = result.get("body") or ""
    body = json.loads(raw) if raw and "json" in headers.get("content-type", "") else raw
    return Reply(int(result["statusCode"]), headers, body)


def call(
    function: str, method: str, path: str, email: str, body: Any = None, *, groups: list[str] | None = None, **kw: Any
) -> Reply:
    """`function`'s real handler called by `email` (in `groups`), as API Gateway would."""
    return invoke(function, http_event(method, path, body=body, claims=claims_for(email, groups), **kw))


def path_quote(value: str) -> str:
    return quote(value, safe="")


# -- HTTP (e2e) ---------------------------------------------------------------------------------


def http(
    method: str,
    url: str,
    body: Any = None,
    token: str | None = None,
    *,
    raw: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 30,
) -> Reply:
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    request = urllib.request.Request(url, data=data, method=method)  # noqa: S310 - loopback URLs from tests
    if data is not None:
        request.add_header("content-type", "application/json")
    if token:
        request.add_header("authorization", f"Bearer {token}")
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            status, hdrs, payload = response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as err:
        status, hdrs, payload = err.code, dict(err.headers), err.read()
    lowered = {k.lower(): v for k, v in hdrs.items()}
    text = payload.decode() if payload else ""
    parsed = json.loads(text) if text and "json" in lowered.get("content-type", "") else text
    return Reply(status, lowered, parsed)


@contextmanager
def counting_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Record the name of every DynamoDB client call made inside the block."""
    calls: list[str] = []
    real = dynamo.client()

    class Counting:
        def __getattr__(self, name: str) -> Any:
            calls.append(name)
            return getattr(real, name)

    with monkeypatch.context() as patched:
        patched.setattr(dynamo, "client", Counting)
        yield calls

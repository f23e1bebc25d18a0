"""The dev server under hostile and unlucky input, over real sockets: framing, methods, the clock,
a throttle under a flood of guesses, and retries with an Idempotency-Key."""

from __future__ import annotations

import contextlib
import json
import secrets
import socket
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import pytest

from license_manager.domain.license_keys import ALPHABET, display, from_random
from tests.e2e.conftest import token_for
from tests.helpers import http, path_quote, unique_email


def address(base_url: str) -> tuple[str, int]:
    parts = urlsplit(base_url)
    assert parts.hostname is not None
    assert parts.port is not None
    return parts.hostname, parts.port


def exchange(base_url: str, raw: bytes, timeout: float = 10) -> bytes:
    """Send raw bytes on one connection; everything the server sends until it closes (or goes quiet)."""
    with socket.create_connection(address(base_url), timeout=timeout) as conn:
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # refused mid-body: read the answer
            conn.sendall(raw)
        received = b""
        with contextlib.suppress(TimeoutError, ConnectionResetError):
            while chunk := conn.recv(65536):
                received += chunk
        return received


def responses(data: bytes) -> list[tuple[int, dict[str, str], bytes]]:
    """Parse the HTTP/1.1 responses in a byte stream (Content-Length framed)."""
    found = []
    while data:
        head, _, rest = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
        length = int(headers.get("content-length", "0"))
        found.append((status, headers, rest[:length]))
        data = rest[length:]
    return found


def request(method: str, path: str, headers: dict[str, str] | None = None, body: bytes = b"") -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: localhost", *(f"{k}: {v}" for k, v in (headers or {}).items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


@pytest.mark.parametrize("method", ["TRACE", "QUERY", "CONNECT", "PROPFIND", "BREW"])
def test_any_method_gets_a_problem_not_html(base_url: str, method: str) -> None:
    ((status, headers, body),) = responses(exchange(base_url, request(method, "/orgs", {"Connection": "close"})))
    assert status in (401, 404, 405)
    assert headers["content-type"] == "application/problem+json"
    assert json.loads(body)["status"] == status


def test_a_body_over_the_limit_is_413_and_its_bytes_never_become_a_request(base_url: str) -> None:
    # Given a 2 MB body whose bytes look like another request
    smuggled = request("DELETE", "/orgs/org_aaaaaaaaaaaaaaaaaaaa/members/x%40y.z")
    body = smuggled * (2 * 1024 * 1024 // len(smuggled) + 1)
    raw = request("POST", "/orgs", {"Content-Length": str(len(body)), "Content-Type": "application/json"}) + body
    # When it is sent on one connection
    answers = responses(exchange(base_url, raw))
    # Then there is one answer, 413, and the connection is closed after it
    assert [a[0] for a in answers] == [413]
    assert answers[0][1]["connection"] == "close"


@pytest.mark.parametrize(
    "framing",
    [
        {"Content-Length": "abc"},
        {"Content-Length": "-1"},
        {"Content-Length": "1e3"},
        {"Content-Length": " 12 , 13"},
        {"Content-Length": "5", "Transfer-Encoding": "chunked"},
        {"Transfer-Encoding": "gzip"},
    ],
)
def test_a_body_framed_wrongly_is_400_at_once_and_closes(base_url: str, framing: dict[str, str]) -> None:
    raw = request("POST", "/orgs", framing, b'{"name": "x"}' + request("GET", "/products"))
    answers = responses(exchange(base_url, raw, timeout=15))
    assert [a[0] for a in answers] == [400]
    assert answers[0][1]["content-type"] == "application/problem+json"


def test_a_chunked_body_is_read(base_url: str) -> None:
    token = token_for(base_url, unique_email())
    payload = b'{"name": "Chunky"}'
    chunked = f"{len(payload):x}\r\n".encode() + payload + b"\r\n0\r\n\r\n"
    headers = {"Transfer-Encoding": "chunked", "Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    ((status, _headers, body),) = responses(
        exchange(base_url, request("POST", "/orgs", {**headers, "Connection": "close"}) + chunked)
    )
    assert status == 201
    assert json.loads(body)["name"] == "Chunky"


def test_a_204_leaves_a_kept_alive_connection_usable(base_url: str) -> None:
    owner, bob = unique_email("owner"), unique_email("bob")
    token = token_for(base_url, owner)
    org_id = http("POST", f"{base_url}/orgs", {"name": "Acme"}, token).body["org_id"]
    http("POST", f"{base_url}/orgs/{org_id}/members", {"email": bob, "role": "viewer"}, token)
    auth = {"Authorization": f"Bearer {token}"}
    raw = request("DELETE", f"/orgs/{org_id}/members/{path_quote(bob)}", auth) + request(
        "GET", f"/orgs/{org_id}/members", {**auth, "Connection": "close"}
    )
    (deleted, listed) = responses(exchange(base_url, raw))
    assert (deleted[0], deleted[2]) == (204, b"")
    assert listed[0] == 200
    assert [m["email"] for m in json.loads(listed[2])["members"]] == [owner]


@pytest.mark.parametrize(
    "now",
    ["9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z", "2200-01-01T00:00:00Z", "1999-12-31T23:59:59Z", 5, "", "soon"],
)
def test_the_dev_clock_refuses_instants_it_cannot_run_at(base_url: str, now: object) -> None:
    before = http("GET", f"{base_url}/_dev/clock").body["now"]
    reply = http("POST", f"{base_url}/_dev/clock", {"now": now})
    assert reply.status == 422
    assert reply.content_type == "application/problem+json"
    assert http("GET", f"{base_url}/_dev/clock").body["now"][:16] == before[:16]


def test_the_dev_clock_writes_four_digit_years(base_url: str) -> None:
    reply = http("POST", f"{base_url}/_dev/clock", {"now": "2000-01-01T00:00:00Z"})
    try:
        assert reply.status == 200
        assert reply.body["now"].startswith("2000-01-01T00:00:0")
    finally:
        http("POST", f"{base_url}/_dev/clock", {"now": None})


def random_key() -> str:
    return display(from_random([secrets.randbelow(len(ALPHABET)) for _ in range(24)]))


def test_forty_guesses_at_once_get_ten_answers_and_thirty_refusals(base_url: str) -> None:
    # Given an org's admin guessing 40 well-formed keys at the same moment
    admin = unique_email("admin")
    token = token_for(base_url, admin)
    org_id = http("POST", f"{base_url}/orgs", {"name": "Guessers"}, token).body["org_id"]

    def guess(_i: int) -> int:
        return http("POST", f"{base_url}/orgs/{org_id}/redemptions", {"license_key": random_key()}, token).status

    with ThreadPoolExecutor(max_workers=40) as pool:
        statuses = list(pool.map(guess, range(40)))
    # Then exactly the throttle's 10 are answered; the rest are refused with 429
    assert sorted(statuses) == [404] * 10 + [429] * 30


def test_forty_retries_of_one_org_creation_make_one_org(base_url: str) -> None:
    alice = unique_email("alice")
    token = token_for(base_url, alice)

    def create(_i: int) -> tuple[int, str]:
        reply = http("POST", f"{base_url}/orgs", {"name": "Acme"}, token, headers={"Idempotency-Key": "create-acme-01"})
        return reply.status, str(reply.body.get("org_id"))

    with ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(pool.map(create, range(40)))
    assert {status for status, _ in answers} == {201}
    assert len({org for _, org in answers}) == 1
    assert len(http("GET", f"{base_url}/orgs", token=token).body["orgs"]) == 1

"""Start the real dev server (python -m devserver) on a free port for the e2e tests."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.helpers import http, unique_email
from tools.template import ROOT

READY = re.compile(r"ready on (http://127\.0\.0\.1:\d+)")


@pytest.fixture(scope="session")
def base_url() -> Iterator[str]:
    log = Path(tempfile.mkstemp(prefix="devserver-", suffix=".log")[1])
    env = {**os.environ, "PORT": "0", "DEV_ACCESS_LOG": "0"}
    env.pop("DYNAMODB_ENDPOINT_URL", None)
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "devserver"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + 90
        url = None
        while url is None:
            match = READY.search(log.read_text())
            if match:
                url = match.group(1)
            elif proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"dev server did not start:\n{log.read_text()}")
            else:
                time.sleep(0.1)
        yield url
    finally:
        proc.send_signal(signal.SIGINT)  # what Ctrl-C sends
        stopping = time.monotonic()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        took = time.monotonic() - stopping
        output = log.read_text()
        log.unlink(missing_ok=True)
        assert "stopped." in output, output[-2000:]
        assert took < 15, f"the dev server took {took:.1f} s to stop"


def token_for(base_url: str, email: str, groups: list[str] | None = None, ttl: int | None = None) -> str:
    body: dict[str, object] = {"email": email}
    if groups is not None:
        body["groups"] = groups
    if ttl is not None:
        body["ttl_seconds"] = ttl
    reply = http("POST", f"{base_url}/_dev/token", body)
    assert reply.status == 200, reply.body
    return str(reply.body["token"])


@pytest.fixture
def user(base_url: str) -> tuple[str, str]:
    email = unique_email("user")
    return email, token_for(base_url, email)


@pytest.fixture
def dev_clock(base_url: str) -> Iterator[Callable[[str], None]]:
    """Set the dev server's clock; it goes back to real time after the test."""

    def set_clock(instant: str) -> None:
        reply = http("POST", f"{base_url}/_dev/clock", {"now": instant})
        assert reply.status == 200, reply.body

    yield set_clock
    http("POST", f"{base_url}/_dev/clock", {"now": None})

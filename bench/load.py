"""The dev server under load: 32 concurrent clients, 2,000 mixed requests over 50 orgs.

The dev server runs as `make dev` runs it (`python -m devserver`, its own process); the clients
are threads here, each with its own kept-alive connection, sending what a busy console would:
overviews, wallets, history pages, usage changes, member changes, trials and key redemptions.
Goal: no 5xx (a request the server cannot take in time would be a 503). Reported: median and
p99 latency per kind, and requests per second.

    python -m bench.load     prints the section
"""

from __future__ import annotations

import http.client
import json
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
CLIENTS = 32
REQUESTS = 2000
ORGS = 50
WARM_UP = 300  # requests sent first and not counted: the workers start (Lambda's cold starts)
READY = re.compile(r"ready on (http://127\.0\.0\.1:\d+)")


@contextmanager
def dev_server() -> Iterator[str]:
    log = Path(tempfile.mkstemp(prefix="bench-devserver-", suffix=".log")[1])
    env = {**os.environ, "PORT": "0", "DEV_ACCESS_LOG": "0", "DEV_LOG_LEVEL": "ERROR"}
    env.pop("DYNAMODB_ENDPOINT_URL", None)
    env.pop("TABLE_NAME", None)
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "devserver"], cwd=ROOT, env=env, stdout=out, stderr=out)
    try:
        deadline = time.monotonic() + 120
        while (match := READY.search(log.read_text())) is None:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the dev server did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.1)
        yield match.group(1)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.unlink(missing_ok=True)


class Connection:
    """One client: a kept-alive HTTP/1.1 connection."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=120)

    def send(self, method: str, path: str, body: Any = None, token: str | None = None) -> tuple[int, Any]:
        headers = {"Content-Type": "application/json"} if body is not None else {}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        data = json.dumps(body) if body is not None else None
        for attempt in (1, 2):
            try:
                self.conn.request(method, path, body=data, headers=headers)
                response = self.conn.getresponse()
                raw = response.read()
                break
            except (ConnectionError, http.client.HTTPException):
                self.conn.close()
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=120)
                if attempt == 2:
                    raise
        parsed = json.loads(raw) if raw and "json" in (response.getheader("content-type") or "") else None
        return response.status, parsed


def _setup(url: str) -> tuple[list[tuple[str, str, str]], list[str], str]:
    """50 orgs, each with an owner: (org_id, owner email, owner token); keys to redeem; a product."""
    c = Connection(url)
    _status, vendor = c.send("POST", "/_dev/token", {"email": "vendor@load.example", "groups": ["vendor-admin"]})
    orgs = []
    for i in range(ORGS):
        email = f"owner{i:02d}@load.example"
        _status, token = c.send("POST", "/_dev/token", {"email": email})
        status, org = c.send("POST", "/orgs", {"name": f"Load {i:02d}"}, token["token"])
        assert status == 201, org
        orgs.append((org["org_id"], email, token["token"]))
    _status, catalog = c.send("GET", "/products", None, orgs[0][2])
    product = catalog["products"][0]["product_id"]
    keys: list[str] = []
    while len(keys) < 200:
        status, batch = c.send(
            "POST", "/admin/license-keys", {"product_id": product, "licenses": 1, "count": 50}, vendor["token"]
        )
        assert status == 201, batch
        keys.extend(k["license_key"] for k in batch["keys"])
    return orgs, keys, product


def _request(rng: random.Random, orgs: list[tuple[str, str, str]], keys: list[str], product: str) -> tuple[str, ...]:
    org_id, _email, token = rng.choice(orgs)
    kind = rng.choices(
        ["overview", "wallet", "history", "usage", "member", "trial", "redeem", "orgs"],
        weights=[30, 15, 10, 20, 8, 5, 7, 5],
    )[0]
    if kind == "overview":
        return kind, "GET", f"/orgs/{org_id}/overview", token
    if kind == "wallet":
        return kind, "GET", f"/orgs/{org_id}/wallet", token
    if kind == "history":
        return kind, "GET", f"/orgs/{org_id}/history?limit=20", token
    if kind == "orgs":
        return kind, "GET", "/orgs", token
    if kind == "usage":
        return (
            kind,
            "PUT",
            f"/orgs/{org_id}/products/{product}/usage",
            token,
            json.dumps({"devices": rng.randint(0, 9)}),
        )
    if kind == "member":
        body = {"email": f"m{rng.randint(0, 20)}@load.example", "role": rng.choice(["viewer", "admin"])}
        return kind, "POST", f"/orgs/{org_id}/members", token, json.dumps(body)
    if kind == "trial":
        return kind, "POST", f"/orgs/{org_id}/trials", token, json.dumps({"product_id": product})
    key = keys.pop() if keys else "0000-0000-0000-0000-0000"
    return kind, "POST", f"/orgs/{org_id}/redemptions", token, json.dumps({"license_key": key})


def run(url: str) -> tuple[dict[str, list[float]], Counter[int], float]:
    orgs, keys, product = _setup(url)
    rng = random.Random(20261129)  # noqa: S311 - a reproducible mix, not security
    warm_up = [_request(rng, orgs, keys, product) for _ in range(WARM_UP)]
    _send_all(url, warm_up)  # every function's workers started (as Lambda's warm instances)
    plan = [_request(rng, orgs, keys, product) for _ in range(REQUESTS)]
    began = time.perf_counter()
    latencies, statuses = _send_all(url, plan)
    return latencies, statuses, REQUESTS / (time.perf_counter() - began)


def _send_all(url: str, plan: list[tuple[str, ...]]) -> tuple[dict[str, list[float]], Counter[int]]:
    latencies: dict[str, list[float]] = defaultdict(list)
    statuses: Counter[int] = Counter()
    lock = threading.Lock()
    work = iter(plan)

    def client() -> None:
        conn = Connection(url)
        while True:
            with lock:
                item = next(work, None)
            if item is None:
                return
            kind, method, path, token, *body = item
            began = time.perf_counter()
            status, _answer = conn.send(method, path, json.loads(body[0]) if body else None, token)
            took = (time.perf_counter() - began) * 1000
            with lock:
                latencies[kind].append(took)
                statuses[status] += 1

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, statuses


def _p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def section() -> tuple[str, bool]:
    with dev_server() as url:
        latencies, statuses, rate = run(url)
    server_errors = sum(n for status, n in statuses.items() if status >= 500)
    everything = [v for values in latencies.values() for v in values]
    rows = "\n".join(
        f"| {kind} | {len(values)} | {statistics.median(values):.0f} ms | {_p99(values):.0f} ms |"
        for kind, values in sorted(latencies.items())
    )
    spread = ", ".join(f"{status}: {n}" for status, n in sorted(statuses.items()))
    ok = server_errors == 0
    text = f"""## The dev server under load

`python -m devserver` as `make dev` runs it, {CLIENTS} concurrent clients (threads, each on its own
kept-alive connection) sending {REQUESTS:,} requests (after {WARM_UP} not counted, while every
function's workers start), a reproducible mix over {ORGS} orgs: overviews,
wallets, history pages, usage changes, member changes, trials and key redemptions
(`bench/load.py`). Each function runs in worker processes, one request at a time each, and the
embedded DynamoDB serves one call at a time, as documented in docs/architecture.md: on 2 cores
the figures are the local stack's, not Lambda's.

| kind | requests | median | p99 |
| --- | ---: | ---: | ---: |
{rows}
| all | {len(everything)} | {statistics.median(everything):.0f} ms | {_p99(everything):.0f} ms |

Statuses: {spread}. Throughput: **{rate:.0f} requests/s**. Server errors (5xx): **{server_errors}**
(goal 0: {"met" if ok else "NOT met"}).
"""
    return text, ok


if __name__ == "__main__":
    report, met = section()
    print(report)
    raise SystemExit(0 if met else 1)

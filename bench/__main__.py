"""Benchmarks: `make bench` (python -m bench) writes docs/benchmarks.md.

Each section is a module of this package, measured side by side in one run (these machines are
noisy, so every goal is a ratio or a count, never an absolute time):

- `coldstart`: each function's handler import + DynamoDB client, built as deployed, against the
  floor (`import boto3` + one client) and a 25-line Powertools app; peak memory; package sizes.
- `sweep`: the renewal sweep against the raw TransactWriteItems rate of the same backend; items
  read per item due; peak memory at 1,000 and 10,000 due.
- `reads`: DynamoDB calls and items read per operation (fails if one rises above its goal).
- `load`: the dev server under 32 concurrent clients: no 5xx, latency, throughput.
- here: the embedded DynamoDB's memory over 10,000 writes.

DynamoDB is the dev server's embedded one (moto) in a separate process, so memory measured in
this process is this process's own.
"""

from __future__ import annotations

import multiprocessing
import os
import platform
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3

from bench import moto_process
from license_manager import settings
from license_manager.domain.licensing import empty
from license_manager.store import dynamo
from license_manager.store import licensing as store
from tools.template import create_table

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "benchmarks.md"
TABLE = "bench"
EMBEDDED_WRITES = 10_000


def _fresh_table(endpoint: str, name: str) -> None:
    create_table(boto3.client("dynamodb", endpoint_url=endpoint), name)


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def bench_embedded_memory(endpoint: str, moto_pid: int, writes: int) -> list[tuple[int, int]]:
    """(writes so far, resident KiB of the embedded DynamoDB's process), every tenth of the run.
    Each write is one conditional transaction over the same items (a product state rewritten on
    its version), so the data does not grow: any growth is the database's own."""
    os.environ["TABLE_NAME"] = f"{TABLE}-memory"
    _fresh_table(endpoint, os.environ["TABLE_NAME"])
    settings.reset()
    dynamo.reset_client()
    for i in range(200):  # other items, so a transaction that copied the table would show it
        filler = replace(empty(f"org_{i:020d}", "cam"), devices=i, version=1)
        dynamo.client().put_item(TableName=dynamo.table_name(), Item=dynamo.to_attrs(store.state_item(filler)))
    state = replace(empty("org_memory000000000000", "cam"), version=0)
    samples: list[tuple[int, int]] = []
    for i in range(1, writes + 1):
        store.write([], state.version, replace(state, devices=i % 7), [])
        state = replace(state, devices=i % 7, version=state.version + 1)
        if i % (writes // 10) == 0:
            samples.append((i, _rss_kib(moto_pid)))
    return samples


def embedded_section(endpoint: str, moto_pid: int) -> tuple[str, bool]:
    memory = bench_embedded_memory(endpoint, moto_pid, EMBEDDED_WRITES)
    (first_writes, first_kib), (last_writes, last_kib) = memory[0], memory[-1]
    ratio = last_kib / first_kib
    ok = ratio <= 1.05
    rows = "\n".join(f"| {w:,} | {k / 1024:,.1f} MiB |" for w, k in memory)
    text = f"""## The embedded DynamoDB: memory flat over {EMBEDDED_WRITES:,} writes

The dev server's embedded DynamoDB (moto, patched by `devserver/moto_patches.py`) must not grow
with the number of writes. Each write here is one conditional transaction rewriting the same
product state on its version, in a table of 200 other items; the resident memory of the
database's process, every {EMBEDDED_WRITES // 10:,} writes:

| writes | resident memory |
| ---: | ---: |
{rows}

Ratio after {last_writes:,} writes / after {first_writes:,}: **{ratio:.3f}** (goal <= 1.05:
{"met" if ok else "NOT met"}). Unpatched, moto copied the whole table on every transaction and
kept every copy: about 3 GB per 1,000 transactions on a table of 1,000 items. Its cost per call no
longer depends on the table's size either (`tests/integration/test_moto_patches.py`); the sweep
above runs 10,000 due on it.
"""
    return text, ok


def _with_embedded_dynamo(run: Any) -> Any:
    parent, child = multiprocessing.get_context("spawn").Pipe()
    server = multiprocessing.get_context("spawn").Process(target=moto_process.serve, args=(child,), daemon=True)
    server.start()
    if not parent.poll(60):
        raise RuntimeError("the moto process did not start")
    endpoint = parent.recv()
    os.environ["DYNAMODB_ENDPOINT_URL"] = endpoint
    os.environ["EVENTS_ENDPOINT_URL"] = endpoint
    try:
        assert server.pid is not None
        return run(endpoint, server.pid)
    finally:
        parent.send("stop")
        server.join(timeout=10)
        os.environ.pop("DYNAMODB_ENDPOINT_URL", None)
        os.environ.pop("EVENTS_ENDPOINT_URL", None)


def main() -> int:
    from bench import coldstart, load, reads, sweep  # noqa: PLC0415 - each section's own imports

    os.environ.update(
        AWS_ACCESS_KEY_ID="bench",
        AWS_SECRET_ACCESS_KEY="bench",
        AWS_DEFAULT_REGION="eu-north-1",
        POWERTOOLS_LOG_LEVEL="ERROR",
    )
    began = time.monotonic()
    sections: list[tuple[str, str, bool]] = []

    def run(name: str, measure: Any) -> None:
        started = time.monotonic()
        text, ok = measure()
        sections.append((name, text, ok))
        print(f"bench: {name} {'met' if ok else 'NOT met'} in {time.monotonic() - started:.0f} s", flush=True)

    run("cold start", coldstart.section)
    run("sweep", lambda: _with_embedded_dynamo(lambda endpoint, _pid: sweep.section(endpoint)))
    run("embedded DynamoDB", lambda: _with_embedded_dynamo(embedded_section))
    run("calls and items read", reads.section)
    run("dev server under load", load.section)
    summary = "\n".join(f"| {name} | {'met' if ok else '**NOT met**'} |" for name, _text, ok in sections)
    body = "\n".join(text for _name, text, _ok in sections)
    report = f"""# Benchmarks

Written by `make bench` (`python -m bench`) on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, Python
{platform.python_version()}, {os.cpu_count()} cores, in {time.monotonic() - began:.0f} s. DynamoDB is the dev
server's embedded one (moto). Absolute times are moto's and this machine's; the goals are ratios
or counts measured side by side in one run.

| section | goals |
| --- | --- |
{summary}

{body}"""
    OUT.write_text(report, encoding="utf-8")
    print(report)
    return 0 if all(ok for _name, _text, ok in sections) else 1


if __name__ == "__main__":
    sys.exit(main())

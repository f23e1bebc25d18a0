"""python -m devserver (make dev): the local stack on http://127.0.0.1:3000 (PORT overrides).
Ctrl-C (or SIGTERM) stops it and its workers."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time


def main() -> int:
    from devserver.stack import DevServer  # noqa: PLC0415 - spawned workers import this module: keep it light

    port = int(os.environ.get("PORT", "3000"))
    started = time.monotonic()
    try:
        server = DevServer(port=port)
    except OSError as err:
        print(f"cannot listen on 127.0.0.1:{port}: {err} (set PORT to use another port)", file=sys.stderr)
        return 1
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    threading.Thread(target=server.serve_forever, name="http", daemon=True).start()
    url = server.url
    print(
        f"License Manager API ready on {url} in {time.monotonic() - started:.1f}s "
        f"({len(server.routes)} routes from template.yaml; DynamoDB {server.dynamodb_label})\n"
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


if __name__ == "__main__":
    sys.exit(main())

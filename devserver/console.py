"""The web console (console/), served as CloudFront serves it in AWS: `/` is its page, its files
are under `/console/`, with the security headers the template gives the distribution, and a
runtime configuration that says "sign in with dev tokens"."""

from __future__ import annotations

import json

from devserver.gateway import Answer, problem
from tools.console_files import CONSOLE, TYPES
from tools.template import console_headers


class Console:
    def __init__(self) -> None:
        self.headers = console_headers()
        self.config = json.dumps({"mode": "dev"}).encode()

    def serves(self, method: str, path: str) -> bool:
        return method in ("GET", "HEAD") and (path in ("/", "/index.html") or path.startswith("/console/"))

    def handle(self, path: str) -> Answer:
        if path in ("/", "/index.html"):
            path = "/console/index.html"
        if path == "/console/config.json":
            return 200, {"content-type": "application/json", "cache-control": "no-store", **self.headers}, self.config
        file = (CONSOLE / path.removeprefix("/console/")).resolve()
        if not file.is_relative_to(CONSOLE) or not file.is_file() or file.suffix not in TYPES:
            return problem(404, "Not found", f"No console file {path}.")
        headers = {"content-type": TYPES[file.suffix], "cache-control": "no-cache", **self.headers}
        return 200, headers, file.read_bytes()

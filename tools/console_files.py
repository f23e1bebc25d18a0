"""The web console's files (console/) and the content type each is served with: by the dev server
locally, and uploaded with to S3 by `make deploy` (tools/deploy_console.py)."""

from __future__ import annotations

from tools.template import ROOT

CONSOLE = ROOT / "console"
TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
}

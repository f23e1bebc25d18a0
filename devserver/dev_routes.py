"""The /_dev endpoints of the local dev server: tokens, the clock, the renewal sweep, and the
notifications the functions published. Development and tests only."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from devserver import tokens
from devserver.gateway import Answer, Gateway, json_answer, problem
from devserver.notifications import NotificationSink
from license_manager import clock
from license_manager.domain.text import clean_email
from license_manager.domain.timefmt import parse_iso, to_iso
from tools.template import Route

# The clock can be set anywhere in these years: enough for any subscription a test can imagine,
# and far from the limits of date arithmetic (a period starts up to 60 months after another).
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)
CLOCK_HINT = "now: an ISO 8601 instant with an offset from 2000-01-01 to 2199-12-31, or null for real time."


def scheduled_event(now: datetime, function: str, region: str) -> dict[str, Any]:
    """An EventBridge scheduled event (the shape of `sam local generate-event eventbridge scheduled`)."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "000000000000",
        "time": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [f"arn:aws:events:local:000000000000:rule/{function}-schedule"],
        "detail": {},
    }


def _invalid(detail: str) -> Answer:
    return problem(422, "Invalid request", detail)


class DevRoutes:
    def __init__(
        self,
        gateway: Gateway,
        scheduled: list[Route],
        notifications: NotificationSink,
        issuer: tokens.TokenIssuer,
        region: str,
    ) -> None:
        self.gateway = gateway
        self.scheduled = scheduled
        self.notifications = notifications
        self.issuer = issuer
        self.region = region

    def handle(self, method: str, path: str, body: bytes) -> Answer:
        try:
            data = json.loads(body or b"{}")
        except (ValueError, RecursionError):
            return problem(400, "Malformed JSON", "The request body is not valid JSON.")
        if not isinstance(data, dict):
            return _invalid("The body must be a JSON object.")
        routes: dict[tuple[str, str], Callable[[], Answer]] = {
            ("POST", "/_dev/token"): lambda: self._token(data),
            ("GET", "/_dev/clock"): lambda: json_answer(200, {"now": to_iso(clock.now())}),
            ("POST", "/_dev/clock"): lambda: self._set_clock(data),
            ("POST", "/_dev/renewal-sweep"): self._sweep,
            ("GET", "/_dev/notifications"): lambda: json_answer(200, {"notifications": self.notifications.drain()}),
        }
        route = routes.get((method, path))
        if route is not None:
            return route()
        if any(p == path for _m, p in routes):
            allowed = ", ".join(sorted(m for m, p in routes if p == path))
            return problem(405, "Method not allowed", f"{path} answers {allowed}.", {"allow": allowed})
        return problem(404, "Not found", f"No dev route for {method} {path}.")

    def _sweep(self) -> Answer:
        """Run the renewal function once, as the schedule would, at the dev clock."""
        if not self.scheduled:
            return problem(404, "Not found", "template.yaml has no scheduled function.")
        function = self.scheduled[0].function
        event = scheduled_event(clock.now(), function, self.region)
        return self.gateway.run(function, event, lambda summary: json_answer(200, summary))

    def _token(self, data: dict[str, Any]) -> Answer:
        email = data.get("email")
        groups = data.get("groups", [])
        ttl = data.get("ttl_seconds", tokens.DEFAULT_TTL)
        try:
            email = clean_email(email) if isinstance(email, str) else None
        except ValueError:
            email = None
        if email is None:
            return _invalid("email: an email address is required (no invisible characters).")
        if not isinstance(groups, list) or not all(tokens.valid_group(g) for g in groups):
            return _invalid("groups: a list of group names (visible characters, no spaces or brackets).")
        if not isinstance(ttl, int) or isinstance(ttl, bool) or not 1 <= ttl <= 7 * 86400:
            return _invalid("ttl_seconds: an integer from 1 to 604800.")
        token, exp = self.issuer.issue(email, groups, ttl)
        return json_answer(200, {"token": token, "expires_at": to_iso(datetime.fromtimestamp(exp, UTC))})

    def _set_clock(self, data: dict[str, Any]) -> Answer:
        if "now" not in data:
            return _invalid(CLOCK_HINT)
        value = data["now"]
        if value is None:
            clock.set_now(None)
            return json_answer(200, {"now": to_iso(clock.now())})
        try:
            instant = parse_iso(value) if isinstance(value, str) else None
        except (ValueError, OverflowError):
            instant = None
        if instant is None or not EARLIEST <= instant < LATEST:
            return _invalid(CLOCK_HINT)
        clock.set_now(instant)
        return json_answer(200, {"now": to_iso(clock.now())})

"""What on-call sees: the business and error metrics (Embedded Metric Format lines, as CloudWatch
reads them from the logs) written by the real handlers, once per change that reached the table."""

from __future__ import annotations

import json
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest

from license_manager import clock
from license_manager.domain.license_keys import from_random
from license_manager.observability import NAMESPACE, metrics
from license_manager.services import licensing as licensing_service
from license_manager.services import renewals
from license_manager.store import events as event_bus
from tests.helpers import EVENTS, call, function_module, unique_email
from tests.integration.test_keys_api import CAM, activate, issue, new_org, redeem
from tools.functions import FakeContext

pytestmark = pytest.mark.usefixtures("table")

Key = tuple[str, tuple[tuple[str, str], ...]]


@pytest.fixture(autouse=True)
def metrics_on(table: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    metrics.clear_metrics()
    capsys.readouterr()  # what earlier set-up printed is not this test's


def emitted(capsys: pytest.CaptureFixture[str]) -> Counter[Key]:
    """Sum of every metric printed since the last call, by (name, dimensions other than service)."""
    found: Counter[Key] = Counter()
    for line in capsys.readouterr().out.splitlines():
        try:
            document = json.loads(line)
        except ValueError:
            continue
        if not isinstance(document, dict) or "_aws" not in document:
            continue
        for directive in document["_aws"]["CloudWatchMetrics"]:
            assert directive["Namespace"] == NAMESPACE
            names = {d for dimension_set in directive["Dimensions"] for d in dimension_set} - {"service"}
            dimensions = tuple(sorted((d, str(document[d])) for d in names))
            for metric in directive["Metrics"]:
                value = document[metric["Name"]]
                found[(metric["Name"], dimensions)] += sum(value) if isinstance(value, list) else value
    return found


def test_redemptions_are_counted_by_outcome_once_each(capsys: pytest.CaptureFixture[str]) -> None:
    admin = unique_email("admin")
    org_id = new_org(admin)
    key = issue(licenses=4)[0]["license_key"]
    emitted(capsys)
    assert redeem(org_id, admin, key).status == 201
    assert redeem(org_id, admin, key).status == 409  # a double click: refused, counted as such
    assert redeem(org_id, admin, "ABCDE-ABCDE-ABCDE-ABCDE-ABCDE").status in (404, 422)
    got = emitted(capsys)
    assert got[("Redemptions", (("outcome", "ok"),))] == 1
    assert got[("LicensesRedeemed", ())] == 4
    assert got[("Redemptions", (("outcome", "already_redeemed"),))] == 1
    refused = {dims[0][1] for (name, dims) in got if name == "Redemptions"} - {"ok", "already_redeemed"}
    assert refused & {"unknown_key", "mistyped_key"}


def test_a_retried_request_that_replays_its_answer_counts_nothing_again(capsys: pytest.CaptureFixture[str]) -> None:
    admin = unique_email("retry")
    org_id = new_org(admin)
    key = issue(licenses=2)[0]["license_key"]
    emitted(capsys)
    headers = {"idempotency-key": "retry-of-the-same-click"}
    body = {"license_key": key}
    first = call("redeem", "POST", f"/orgs/{org_id}/redemptions", admin, body, headers=headers)
    again = call("redeem", "POST", f"/orgs/{org_id}/redemptions", admin, body, headers=headers)
    assert first.status == again.status == 201
    assert first.body == again.body
    got = emitted(capsys)
    assert got[("Redemptions", (("outcome", "ok"),))] == 1
    assert got[("LicensesRedeemed", ())] == 2


def test_guessing_shows_as_throttled_redemptions(capsys: pytest.CaptureFixture[str]) -> None:
    admin = unique_email("admin")
    org_id = new_org(admin)
    statuses = [redeem(org_id, admin, issue_like(i)).status for i in range(12)]
    assert 429 in statuses
    got = emitted(capsys)
    assert got[("Redemptions", (("outcome", "throttled"),))] == statuses.count(429)
    assert got[("Redemptions", (("outcome", "unknown_key"),))] == statuses.count(404)


def issue_like(i: int) -> str:
    """A well-formed key nobody issued (its check symbol is right, so it reaches the database)."""
    return from_random([i % 32] * 23 + [3])


def test_activations_and_usage_changes_are_counted(capsys: pytest.CaptureFixture[str]) -> None:
    admin = unique_email("admin")
    org_id = new_org(admin)
    activate(org_id, admin, devices=3)
    assert call("activate", "PUT", f"/orgs/{org_id}/products/{CAM}/usage", admin, {"devices": 5}).status == 200
    assert call("activate", "PUT", f"/orgs/{org_id}/products/{CAM}/usage", admin, {"devices": 5}).status == 200
    got = emitted(capsys)
    assert got[("Activations", ())] == 1
    assert got[("UsageChanges", (("source", "user"),))] == 2  # 0 -> 3, 3 -> 5; the same figure again is no change


def test_a_bug_is_counted_as_a_server_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    admin = unique_email("admin")
    org_id = new_org(admin)

    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise KeyError("a bug")

    monkeypatch.setattr(licensing_service, "overview", broken)
    emitted(capsys)
    assert call("overview", "GET", f"/orgs/{org_id}/overview", admin).status == 500
    got = emitted(capsys)
    assert got[("ServerErrors", ())] == 1
    assert sum(n for (name, dims), n in got.items() if name == "ServerErrors" and dims) == 1  # and by function


def run_sweep() -> dict[str, Any]:
    event = json.loads((EVENTS / "eventbridge-scheduled.json").read_text())
    handler = function_module("renewal_cron").lambda_handler
    return dict(handler(event, FakeContext("RenewalCron", timeout_seconds=300)))


def test_a_sweep_reports_what_it_did_and_that_it_completed(capsys: pytest.CaptureFixture[str]) -> None:
    admin = unique_email("admin")
    org_id = new_org(admin)
    activate(org_id, admin, devices=2)  # no wallet: the renewal falls short
    clock.set_now(clock.now() + timedelta(days=367))
    emitted(capsys)
    summary = run_sweep()
    got = emitted(capsys)
    assert summary["renewed"] == got[("SweepRenewed", ())] == 1
    assert got[("Renewals", (("outcome", "shortfall"),))] == 1
    assert got[("SweepDue", ())] == 1
    assert got[("SweepCompleted", ())] == 1
    assert got[("SweepErrors", ())] == 0
    assert got[("OutboxBacklog", ())] == 0  # published: nothing waits
    assert ("SweepDuration", ()) in got


def test_a_sweep_that_cannot_publish_fails_the_invocation_after_reporting_the_backlog(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    admin = unique_email("admin")
    org_id = new_org(admin)
    activate(org_id, admin, devices=1)
    clock.set_now(clock.now() + timedelta(days=367))

    def eventbridge_down(_page: Any) -> list[str]:
        raise ConnectionError("EventBridge is down")

    emitted(capsys)
    with monkeypatch.context() as patched:
        patched.setattr(event_bus, "publish", eventbridge_down)
        with pytest.raises(renewals.SweepFailed):
            run_sweep()
    got = emitted(capsys)
    assert got[("SweepRenewed", ())] == 1  # the renewal itself is written; its notices wait
    assert got[("SweepErrors", ())] == got[("OutboxBacklog", ())] == 2  # renewed + shortfall
    assert got[("SweepCompleted", ())] == 0
    assert ("OutboxOldestAge", ()) in got
    assert run_sweep()["published"] == 2  # the next run sends them
    assert emitted(capsys)[("OutboxBacklog", ())] == 0

"""With metrics disabled (the dev server, the tests) a handler prints no metric at all: not even
Powertools' cold start line, which it prints on its own unless asked not to."""

from __future__ import annotations

import pytest
from aws_lambda_powertools.metrics.provider import cold_start

from tests.helpers import call, unique_email

pytestmark = pytest.mark.usefixtures("table")


def test_a_cold_start_with_metrics_disabled_prints_no_metric(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    monkeypatch.setattr(cold_start, "is_cold_start", True)  # as in a fresh Lambda instance
    capsys.readouterr()
    assert call("catalog", "GET", "/products", unique_email("quiet")).status == 200
    assert '"_aws"' not in capsys.readouterr().out

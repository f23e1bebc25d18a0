"""Fixtures shared by the integration tests: moto, the table built from template.yaml."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from devserver.template import create_table
from license_manager import clock
from license_manager.store import dynamo

TABLE = "license-manager-test"


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-north-1")
    monkeypatch.setenv("TABLE_NAME", TABLE)
    monkeypatch.delenv("DYNAMODB_ENDPOINT_URL", raising=False)
    monkeypatch.setenv("POWERTOOLS_LOG_LEVEL", "WARNING")


@pytest.fixture
def table(aws_env: None) -> Iterator[str]:
    """A fresh in-memory table, created from template.yaml's own definition (GSIs included)."""
    with mock_aws():
        dynamo.reset_client()
        create_table(boto3.client("dynamodb", region_name="eu-north-1"), TABLE)
        yield TABLE
    dynamo.reset_client()


@pytest.fixture(autouse=True)
def real_clock() -> Iterator[None]:
    """Tests that move the clock get it back to real time afterwards."""
    yield
    clock.set_now(None)

"""Fixtures shared by the integration tests: moto, the table and KMS keys built from template.yaml."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from devserver import moto_patches
from license_manager import clock, settings
from license_manager.store import dynamo, encryption, events, signing
from tools.template import create_table, key_variables, kms_keys

moto_patches.apply()  # moto's DynamoDB without whole-table copies or kept items
TABLE = "license-manager-test"


def _reset_clients() -> None:
    settings.reset()
    dynamo.reset_client()
    events.reset_client()
    encryption.reset_client()
    signing.reset()


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-north-1")
    monkeypatch.setenv("TABLE_NAME", TABLE)
    monkeypatch.setenv("ANSWERS_KMS_KEY_ID", "alias/not-created-yet")
    monkeypatch.setenv("LICENSE_SIGNING_KEY_IDS", "alias/not-created-yet")
    for name in ("DYNAMODB_ENDPOINT_URL", "EVENTS_ENDPOINT_URL", "KMS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("POWERTOOLS_LOG_LEVEL", "WARNING")
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")  # tests/integration/test_signals.py turns them on
    _reset_clients()
    yield
    settings.reset()  # clients are reset by the next test (some tests replace them meanwhile)


@pytest.fixture
def table(aws_env: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh in-memory table and the KMS keys, created from template.yaml's own definitions."""
    with mock_aws():
        _reset_clients()
        create_table(boto3.client("dynamodb", region_name="eu-north-1"), TABLE)
        kms = boto3.client("kms", region_name="eu-north-1")
        variables = key_variables()
        for logical_id, definition in kms_keys().items():
            monkeypatch.setenv(variables[logical_id], kms.create_key(**definition)["KeyMetadata"]["KeyId"])
        settings.reset()
        signing.reset()
        yield TABLE


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Each test is marked with its layer, from its folder: `pytest -m unit` runs in seconds."""
    for item in items:
        layer = item.path.parent.name
        if layer in {"unit", "integration", "e2e"}:
            item.add_marker(getattr(pytest.mark, layer))


@pytest.fixture(autouse=True)
def real_clock() -> Iterator[None]:
    """Tests that move the clock get it back to real time afterwards."""
    yield
    clock.set_now(None)

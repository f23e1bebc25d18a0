"""Settings are read once, validated, and a function that lacks one says which, at start-up."""

from __future__ import annotations

import pytest

from license_manager import settings
from tests.helpers import function_module


@pytest.fixture(autouse=True)
def fresh(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("TABLE_NAME", "ANSWERS_KMS_KEY_ID", "AWS_READ_TIMEOUT_S", "EVENT_BUS_NAME"):
        monkeypatch.delenv(name, raising=False)
    settings.reset()


def test_a_missing_table_name_is_a_start_up_error_that_names_it() -> None:
    with pytest.raises(settings.SettingsError, match="TABLE_NAME"):
        settings.load()


def test_a_function_without_its_settings_fails_when_it_starts_not_at_the_first_request() -> None:
    function_module.cache_clear()
    with pytest.raises(settings.SettingsError, match="TABLE_NAME"):
        function_module("orgs")


def test_key_issuance_needs_the_key_that_encrypts_remembered_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TABLE_NAME", "table")
    with pytest.raises(settings.SettingsError, match="ANSWERS_KMS_KEY_ID"):
        settings.load(require=["answers_key_id"])
    monkeypatch.setenv("ANSWERS_KMS_KEY_ID", "alias/answers")
    assert settings.load(require=["answers_key_id"]).answers_key_id == "alias/answers"


def test_values_are_typed_and_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TABLE_NAME", "table")
    monkeypatch.setenv("AWS_READ_TIMEOUT_S", "2.5")
    loaded = settings.load()
    assert (loaded.read_timeout_s, loaded.event_bus_name, loaded.idempotency_hours) == (2.5, "default", 24)
    monkeypatch.setenv("AWS_READ_TIMEOUT_S", "soon")
    with pytest.raises(settings.SettingsError, match="AWS_READ_TIMEOUT_S"):
        settings.load()

"""The function's settings: read from the environment once, validated, typed.

Every Lambda function calls `load()` when it starts (at import, so a missing or malformed
setting is a clear start-up error in the function's log, naming the variable, rather than a
`KeyError` on the first request). Everything else reads `current()`.

In AWS the variables come from template.yaml (Globals and each function's own `Environment`);
the local dev server applies the same ones from the same template.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from functools import lru_cache

from pydantic import BaseModel, ConfigDict, Field, ValidationError


class SettingsError(RuntimeError):
    """The environment does not configure this function; the message names each variable."""


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    table_name: str = Field(alias="TABLE_NAME", min_length=3, max_length=255)
    event_bus_name: str = Field(default="default", alias="EVENT_BUS_NAME", min_length=1)
    answers_key_id: str | None = Field(
        default=None,
        alias="ANSWERS_KMS_KEY_ID",
        description="KMS key that encrypts stored answers holding secrets (issued license keys)",
    )
    signing_key_ids: str | None = Field(
        default=None,
        alias="LICENSE_SIGNING_KEY_IDS",
        description="KMS keys (ECC_NIST_P256) of signed licenses, comma-separated: the first signs, all verify",
    )
    license_issuer: str = Field(default="license-manager", alias="LICENSE_ISSUER", min_length=1)
    dynamodb_endpoint_url: str | None = Field(default=None, alias="DYNAMODB_ENDPOINT_URL")
    events_endpoint_url: str | None = Field(default=None, alias="EVENTS_ENDPOINT_URL")
    kms_endpoint_url: str | None = Field(default=None, alias="KMS_ENDPOINT_URL")
    # The time budget of one call to AWS (docs/reliability.md, "Time budget").
    connect_timeout_s: float = Field(default=1.0, alias="AWS_CONNECT_TIMEOUT_S", gt=0, le=10)
    read_timeout_s: float = Field(default=2.0, alias="AWS_READ_TIMEOUT_S", gt=0, le=30)
    answer_margin_ms: int = Field(
        default=1000, alias="ANSWER_MARGIN_MS", ge=100, le=10_000, description="Time kept to answer 503"
    )
    idempotency_hours: int = Field(default=24, alias="IDEMPOTENCY_HOURS", ge=1, le=24 * 7)

    @property
    def signing_keys(self) -> list[str]:
        return [k.strip() for k in (self.signing_key_ids or "").split(",") if k.strip()]

    @property
    def call_budget_s(self) -> float:
        """The longest one AWS call can take before botocore gives up on it."""
        return self.connect_timeout_s + self.read_timeout_s


def _from(environ: Mapping[str, str]) -> Settings:
    values = {k: v for k, v in environ.items() if k in _ALIASES and v != ""}
    try:
        return Settings.model_validate(values)
    except ValidationError as err:
        problems = "; ".join(f"{_alias(e['loc'])}: {e['msg']}" for e in err.errors())
        raise SettingsError(f"this function is not configured: {problems}") from None


def _alias(loc: tuple[int | str, ...]) -> str:
    name = str(loc[0]) if loc else "?"
    field = Settings.model_fields.get(name)
    return field.alias if field is not None and field.alias else name


_ALIASES = frozenset(f.alias for f in Settings.model_fields.values() if f.alias)


@lru_cache(maxsize=1)
def current() -> Settings:
    return _from(os.environ)


def load(*, require: Iterable[str] = ()) -> Settings:
    """Validate the environment now (call it at cold start). `require` names optional settings
    this function cannot work without (e.g. `answers_key_id` for key issuance)."""
    current.cache_clear()
    settings = current()
    missing = [Settings.model_fields[name].alias or name for name in require if getattr(settings, name) is None]
    if missing:
        raise SettingsError(f"this function is not configured: {', '.join(str(m) for m in missing)} must be set")
    return settings


def reset() -> None:
    """Forget the settings read (tests and tools change the environment)."""
    current.cache_clear()

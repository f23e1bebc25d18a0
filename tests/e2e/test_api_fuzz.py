"""An independent API fuzzer (Schemathesis) against the running dev server, from docs/openapi.json.

A modest, seeded budget so `make test` stays quick and repeatable: every operation gets the
coverage phase's boundary cases and SCHEMATHESIS_MAX_EXAMPLES generated ones, then a stateful
phase follows the document's links (POST /orgs -> the org routes). Checked on every answer:
no 5xx, the status and content type are documented, the body matches its schema, and every
error is problem+json with type, title, status and detail.
"""

from __future__ import annotations

import os
from typing import Any

import hypothesis
import pytest
import schemathesis
from schemathesis import Case, CheckContext, Response

from tests.e2e.conftest import token_for
from tools.openapi import OUTPUT

SEED = 20261129
MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "25"))
STATEFUL_SCENARIOS = int(os.environ.get("SCHEMATHESIS_STATEFUL_SCENARIOS", "20"))


@schemathesis.check
def problem_json_errors(ctx: CheckContext, response: Response, case: Case[Any]) -> bool | None:
    """Every 4xx/5xx is RFC 9457 problem+json carrying type, title, status and detail."""
    if response.status_code < 400:
        return None
    media_type = (response.headers.get("content-type") or [""])[0].split(";")[0].strip().lower()
    assert media_type == "application/problem+json", f"{response.status_code} answered as {media_type!r}"
    body = response.json()
    assert isinstance(body, dict), f"problem body is not an object: {body!r}"
    missing = [key for key in ("type", "title", "status", "detail") if key not in body]
    assert not missing, f"problem+json lacks {missing}: {body!r}"
    assert body["status"] == response.status_code
    return True


CONFIG = schemathesis.Config.from_dict(
    {
        "seed": SEED,
        "generation": {"max-examples": MAX_EXAMPLES, "database": "none"},
        "phases": {"stateful": {"generation": {"mode": "positive"}}},
        "checks": {
            "enabled": False,
            "not_a_server_error": {"enabled": True},
            "status_code_conformance": {"enabled": True},
            "content_type_conformance": {"enabled": True},
            "response_schema_conformance": {"enabled": True},
            "problem_json_errors": {"enabled": True},
        },
    }
)
schema = schemathesis.openapi.from_path(OUTPUT, config=CONFIG)


@pytest.fixture(scope="session")
def auth_headers(base_url: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for(base_url, 'fuzzer@example.com')}"}


@schema.parametrize()
@hypothesis.settings(deadline=None)
def test_every_operation_answers_within_its_contract(
    case: Case[Any], base_url: str, auth_headers: dict[str, str]
) -> None:
    case.call_and_validate(base_url=base_url, headers=auth_headers)


APIWorkflow = schema.as_state_machine()


def test_workflows_that_follow_the_links_answer_within_the_contract(
    base_url: str, auth_headers: dict[str, str]
) -> None:
    class Workflow(APIWorkflow):  # type: ignore[misc, valid-type]
        def get_call_kwargs(self, case: Case[Any]) -> dict[str, Any]:
            return {"base_url": base_url, "headers": auth_headers}

    hypothesis.seed(SEED)(Workflow)
    Workflow.run(
        settings=hypothesis.settings(
            max_examples=STATEFUL_SCENARIOS,
            stateful_step_count=6,
            database=None,
            deadline=None,
            phases=[hypothesis.Phase.generate],
            suppress_health_check=list(hypothesis.HealthCheck),
        )
    )

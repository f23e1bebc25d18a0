"""Each function imports what its routes need (docs/decisions.md, "Performance"): its own request
and response models, not every group's; the unit of work only where a use case needs it; the
tracer patching botocore alone. Each function is imported as Lambda does, in a fresh process with
Lambda's variables, and what it loaded is checked."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest

from tools.template import ROOT, function_environment, kms_keys, routes, scheduled_functions

REFS = {"Table": "license-manager", **{key: f"alias/{key}" for key in kms_keys()}}
SCHEMAS = "license_manager.api.schemas."
# Route group of each function's models (api/schemas/<group>.py); the sweep answers no request.
OWN_SCHEMAS = {
    "ActivateFunction": {"common", "licensing"},
    "AdminKeysFunction": {"common", "keys"},
    "CatalogFunction": {"common", "catalog"},
    "OrgsFunction": {"common", "orgs"},
    "OverviewFunction": {"common", "licensing"},
    "RedeemFunction": {"common", "keys"},
    "SystemsFunction": {"common", "systems"},
    "RenewalCronFunction": set(),
}
LOADED = """
import gc, importlib, json, sys
from license_manager import loading
def collections():
    return sum(generation["collections"] for generation in gc.get_stats())
before, at_loaded, loaded = collections(), [], loading.loaded
loading.loaded = lambda: (at_loaded.append(collections()), loaded())
importlib.import_module("app")
gc_state = {"enabled": gc.isenabled(), "frozen": gc.get_freeze_count(), "collections": at_loaded[0] - before}
sys.stdout.write(json.dumps({"modules": sorted(sys.modules), "gc": gc_state}))
"""


def _functions() -> dict[str, str]:
    return {r.function: r.code_uri for r in [*routes(), *scheduled_functions()]}


def _loaded(function: str, code_uri: str) -> set[str]:
    return set(_import(function, code_uri)["modules"])


def _import(function: str, code_uri: str) -> dict[str, Any]:
    """What importing the function's app.py did in a fresh process: modules, garbage collector."""
    inherited = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "POWERTOOLS_", "_X_AMZN"))}
    env = {
        **inherited,
        **function_environment(function, REFS),
        "PYTHONPATH": os.pathsep.join([str(ROOT / code_uri), str(ROOT / "shared")]),
        "PYTHONDONTWRITEBYTECODE": "1",
        "AWS_REGION": "eu-north-1",
        "AWS_DEFAULT_REGION": "eu-north-1",
        # as in Lambda: the tracer is on, and patches what it patches at import
        "AWS_LAMBDA_FUNCTION_NAME": function,
        "LAMBDA_TASK_ROOT": str(ROOT / code_uri),
    }
    done = subprocess.run(  # noqa: S603 - this interpreter, our own code
        [sys.executable, "-c", LOADED], env=env, cwd=ROOT / code_uri, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    found: dict[str, Any] = json.loads(done.stdout)
    return found


def test_every_function_is_listed() -> None:
    assert set(_functions()) == set(OWN_SCHEMAS)


@pytest.mark.parametrize("function", sorted(OWN_SCHEMAS))
def test_a_function_loads_its_own_models_and_only_botocore_is_traced(function: str) -> None:
    loaded = _loaded(function, _functions()[function])
    assert "app" in loaded
    groups = {name.removeprefix(SCHEMAS) for name in loaded if name.startswith(SCHEMAS)}
    assert groups == OWN_SCHEMAS[function]
    assert "aws_xray_sdk.core" in loaded  # the tracer is on, as in Lambda
    assert "aws_xray_sdk.ext.botocore.patch" in loaded
    assert not {"sqlite3", "aws_xray_sdk.ext.httplib.patch", "aws_xray_sdk.ext.sqlite3.patch"} & loaded
    assert not [name for name in loaded if "swagger" in name]


def test_the_catalog_reads_files_only_and_needs_no_unit_of_work() -> None:
    loaded = _loaded("CatalogFunction", _functions()["CatalogFunction"])
    assert "license_manager.services.unit_of_work" not in loaded
    assert not [name for name in loaded if name.startswith("license_manager.services.") and name.endswith("licensing")]


@pytest.mark.parametrize("function", sorted(OWN_SCHEMAS))
def test_a_cold_start_runs_no_garbage_collection_and_leaves_the_collector_on(function: str) -> None:
    # When a function is imported in a fresh process, as Lambda does
    gc_state = _import(function, _functions()[function])["gc"]
    # Then the collector never ran while its ~700 modules loaded, up to `loading.loaded()`
    # (docs/decisions.md, 83)
    assert gc_state["collections"] == 0
    # And it is back on for the requests, with what was loaded frozen out of their collections
    assert gc_state["enabled"] is True
    assert gc_state["frozen"] > 50_000

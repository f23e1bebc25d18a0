"""The Lambda layer installs exactly the pins the tests ran with (minus boto3: the runtime's own)."""

from __future__ import annotations

import re
import tomllib

from tools.template import ROOT


def test_layer_requirements_match_the_project_pins() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    layer = [
        line.strip()
        for line in (ROOT / "shared" / "requirements.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert sorted(layer) == sorted(d for d in project if not d.startswith("boto3"))
    constraints = {_normalize(line) for line in (ROOT / "constraints.txt").read_text().splitlines()}
    for pin in project:
        assert _normalize(pin) in constraints, pin


def _normalize(pin: str) -> str:
    """PEP 503 names: `aws_lambda_powertools` and `aws-lambda-powertools` are one package."""
    name, _, version = pin.partition("==")
    return re.sub(r"[-_.]+", "-", name).lower() + "==" + version


def test_nothing_deployed_imports_the_dev_server_or_the_tools() -> None:
    for path in [*(ROOT / "shared").rglob("*.py"), *(ROOT / "functions").rglob("*.py")]:
        text = path.read_text()
        assert "devserver" not in text, path
        assert not re.search(r"^\s*(from|import) tools\b", text, re.MULTILINE), path

"""The layer `sam build` ships (template.yaml: SharedLayer, BuildMethod: makefile) is built by
shared/Makefile: here the same target, into a temporary directory (pip fetches the arm64 wheels
from the package index, or its cache).

Lambda's /opt is read-only, so a module without byte-code is compiled at every cold start:
every module must come with an unchecked-hash .pyc for CPython 3.11."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tools.template import ROOT, load

PYC_UNCHECKED_HASH = 0b01  # PEP 552 flags: hash-based, source not checked


@pytest.fixture(scope="module")
def layer(tmp_path_factory: pytest.TempPathFactory) -> Path:
    artifacts = tmp_path_factory.mktemp("SharedLayer")
    subprocess.run(  # noqa: S603 - our own Makefile
        [
            shutil.which("make") or "make",
            "--no-print-directory",
            "-f",
            str(ROOT / "shared" / "Makefile"),
            "build-SharedLayer",
        ],
        cwd=tmp_path_factory.getbasetemp(),  # as SAM does: not in the source directory
        env={**os.environ, "ARTIFACTS_DIR": str(artifacts), "PYTHON": sys.executable},  # a 3.11 with pip
        check=True,
        capture_output=True,
        timeout=600,
    )
    return artifacts / "python"


def test_the_template_builds_the_layer_with_the_makefile() -> None:
    layer = load()["Resources"]["SharedLayer"]
    assert layer["Metadata"]["BuildMethod"] == "makefile"
    assert (ROOT / str(layer["Properties"]["ContentUri"]) / "Makefile").is_file()


def test_every_module_has_unchecked_hash_byte_code_for_cpython_311(layer: Path) -> None:
    sources = sorted(layer.rglob("*.py"))
    assert len(sources) > 500  # the dependencies are there, not only our package
    for source in sources:
        pyc = source.parent / "__pycache__" / f"{source.stem}.cpython-311.pyc"
        assert pyc.is_file(), source
        header = pyc.read_bytes()[:16]
        assert header[:4] == importlib.util.MAGIC_NUMBER, pyc
        assert int.from_bytes(header[4:8], "little") == PYC_UNCHECKED_HASH, pyc
        assert header[8:16] == importlib.util.source_hash(source.read_bytes()), pyc
    stray = [p for p in layer.rglob("*.pyc") if p.parent.name != "__pycache__" or ".cpython-311." not in p.name]
    assert not stray


def test_the_package_is_the_source_with_its_data(layer: Path) -> None:
    def files(root: Path) -> set[str]:
        return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts}

    built = files(layer / "license_manager")
    assert built == files(ROOT / "shared" / "license_manager")
    assert {"data/products.json", "data/resellers.json"} <= built


def test_the_dependencies_are_arm64_wheels_without_what_no_function_uses(layer: Path) -> None:
    assert list(layer.glob("pydantic_core/_pydantic_core.cpython-311-aarch64-linux-gnu.so"))
    assert not [p for p in layer.rglob("*.so") if "x86_64" in p.name]
    assert (layer / "aws_lambda_powertools" / "event_handler" / "api_gateway.py").is_file()
    assert not [p for p in layer.rglob("*") if "swagger" in p.name.lower()]
    assert not (layer / "bin").exists()
    assert not list(layer.glob("boto3*"))  # the runtime's own


def test_no_deployed_code_serves_the_swagger_ui() -> None:
    for path in [*(ROOT / "shared" / "license_manager").rglob("*.py"), *(ROOT / "functions").rglob("*.py")]:
        assert "swagger" not in path.read_text().lower(), path

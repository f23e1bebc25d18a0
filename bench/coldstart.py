"""Cold start as deployed: each function's handler import + its DynamoDB client, against the floor.

The floor is what any Python function using DynamoDB pays: `import boto3` and one DynamoDB client,
in a fresh process. Goal: every function <= 1.15 x the floor.

What is measured is what Lambda runs, built the way `sam build` builds it: the layer by
shared/Makefile (the same target, for this machine's platform instead of arm64), each function's
directory copied as SAM copies it, boto3 as the runtime's own (copied from this venv, compiled).
Each sample is a fresh `python -S` process (no site-packages but these) with Lambda's sys.path
(function dir, layer `python/`, runtime), the function's environment from template.yaml, no
writable byte-code cache (PYTHONDONTWRITEBYTECODE, artifacts read-only: /opt and /var/task are),
timing inside the child with perf_counter around the import + client (a process's own start-up
is the same for every child). Rounds interleave every target in a shuffled order, with the floor
at both ends of each round; a ratio is taken within its round, and the medians are reported.

Beside the functions, what decides whether a router could reach the goal (docs/decisions.md,
"Performance"): a 25-line Powertools app with one validated route, the same app with a thin
router instead of Powertools' resolver, and bounds (floor + pydantic; + Powertools' logger,
metrics and tracer; the same loaded without garbage collection, as the functions are) that no
router goes below; and where the slowest function's time goes, by package (-X importtime).

`python -m bench.coldstart` prints the section; `bench/__main__.py` adds it to docs/benchmarks.md.
"""

from __future__ import annotations

import io
import json
import os
import platform
import random
import shutil
import stat
import statistics
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import boto3

from tools.template import ROOT, function_environment, kms_keys, routes, scheduled_functions

GOAL = 1.15
ROUNDS = int(os.environ.get("COLDSTART_ROUNDS", "11"))
REGION = "eu-north-1"
# The runtime's own packages (boto3 is not in the layer; botocore is, and shadows the runtime's).
RUNTIME_PACKAGES = ("boto3", "s3transfer", "botocore", "jmespath", "dateutil", "six.py", "urllib3")

CHILD = """\
import importlib, json, resource, sys, time
began = time.perf_counter()
{body}
elapsed = time.perf_counter() - began
try:  # this process's own peak (ru_maxrss would include the parent's, inherited across exec)
    with open("/proc/self/status") as status:
        rss = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
except OSError:
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
sys.stdout.write(json.dumps({{"ms": elapsed * 1000, "rss_kib": rss, "modules": len(sys.modules)}}))
"""
FLOOR = f'import boto3\nboto3.client("dynamodb", region_name="{REGION}")'
FUNCTION = 'importlib.import_module("app")\nfrom license_manager.store import dynamo\ndynamo.client()'
REFERENCE = 'importlib.import_module("app")'

# What any function with this validation and this observability pays before its first route:
# pydantic (one model built and used) and Powertools' logger, metrics and tracer, but no router.
BOUNDS = {
    "bound: floor + pydantic (1 model)": (
        f'import boto3\nboto3.client("dynamodb", region_name="{REGION}")\n'
        "from pydantic import BaseModel, Field\n"
        "class Item(BaseModel):\n    name: str = Field(min_length=1)\n"
        'Item.model_validate({"name": "x"})'
    ),
    "bound: floor + pydantic + Powertools logger, metrics, tracer (no router)": (
        f'import boto3\nboto3.client("dynamodb", region_name="{REGION}")\n'
        "from pydantic import BaseModel, Field\n"
        "class Item(BaseModel):\n    name: str = Field(min_length=1)\n"
        'Item.model_validate({"name": "x"})\n'
        "from aws_lambda_powertools import Logger, Metrics, Tracer\n"
        'Logger(service="s"), Metrics(namespace="n", service="s"), Tracer(service="s", patch_modules=["botocore"])'
    ),
}
# The same bound, loaded as the functions load (no garbage collection until loaded: loading.py)
BOUNDS["the same bound, without garbage collection while loading (as the functions load)"] = (
    "import gc\ngc.disable()\n"
    + BOUNDS["bound: floor + pydantic + Powertools logger, metrics, tracer (no router)"]
    + "\ngc.enable()\ngc.freeze()"
)

# A Powertools app as the documentation writes one: one route, validated with pydantic.
REFERENCE_APP = '''\
"""The reference: a 25-line Powertools app with one validated route."""

import boto3
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from pydantic import BaseModel, Field

app = APIGatewayHttpResolver(enable_validation=True)
dynamodb = boto3.client("dynamodb")


class ItemIn(BaseModel):
    name: str = Field(min_length=1, max_length=100)


class ItemOut(BaseModel):
    item_id: str
    name: str


@app.post("/items")
def create_item(item: ItemIn) -> ItemOut:
    return ItemOut(item_id="1", name=item.name)


def lambda_handler(event, context):
    return app.resolve(event, context)
'''


# The same app without Powertools' resolver: its one route in a dict, the same pydantic
# validation, problem+json errors. Side by side with the reference, it prices the resolver alone.
THIN_APP = '''\
"""The reference app with a thin router instead of Powertools' resolver."""

import json

import boto3
from pydantic import BaseModel, Field, ValidationError

dynamodb = boto3.client("dynamodb")


class ItemIn(BaseModel):
    name: str = Field(min_length=1, max_length=100)


class ItemOut(BaseModel):
    item_id: str
    name: str


def create_item(item: ItemIn) -> ItemOut:
    return ItemOut(item_id="1", name=item.name)


ROUTES = {("POST", "/items"): (ItemIn, create_item)}


def problem(status, title, **extra):
    body = json.dumps({"type": "about:blank", "title": title, "status": status, **extra})
    return {"statusCode": status, "headers": {"content-type": "application/problem+json"}, "body": body}


def lambda_handler(event, context):
    route = ROUTES.get((event["requestContext"]["http"]["method"], event["rawPath"]))
    if route is None:
        return problem(404, "Not Found")
    model, handle = route
    try:
        body = model.model_validate_json(event.get("body") or "")
    except ValidationError as err:
        fields = [{"field": ".".join(map(str, e["loc"])), "message": e["msg"]} for e in err.errors()]
        return problem(422, "Unprocessable Content", errors=fields)
    answer = handle(body).model_dump_json()
    return {"statusCode": 200, "headers": {"content-type": "application/json"}, "body": answer}
'''


@dataclass
class Target:
    label: str
    body: str
    path: list[Path]
    cwd: Path
    env: dict[str, str] = field(default_factory=dict)
    goal: bool = False  # a deployed function: held to the goal
    ratios: list[float] = field(default_factory=list)
    ms: list[float] = field(default_factory=list)
    rss_kib: list[int] = field(default_factory=list)
    modules: int = 0


def _functions() -> dict[str, str]:
    """logical id -> CodeUri of every function."""
    found: dict[str, str] = {}
    for route in [*routes(), *scheduled_functions()]:
        found.setdefault(route.function, route.code_uri)
    return dict(sorted(found.items()))


def build_layer(artifacts: Path) -> Path:
    """shared/Makefile's build-SharedLayer, for this machine (pydantic_core must load here)."""
    machine = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "aarch64", "arm64": "aarch64"}[
        platform.machine().lower()
    ]
    artifacts.mkdir(parents=True)
    built = subprocess.run(  # noqa: S603 - our own Makefile
        [
            shutil.which("make") or "make",
            "--no-print-directory",
            "-s",
            "-f",
            str(ROOT / "shared" / "Makefile"),
            "build-SharedLayer",
        ],
        env={
            **os.environ,
            "ARTIFACTS_DIR": str(artifacts),
            "PIP_PLATFORM": f"manylinux2014_{machine}",
            "PYTHON": sys.executable,
        },
        cwd=artifacts,
        capture_output=True,
        text=True,
        check=False,
    )
    if built.returncode != 0:
        raise RuntimeError(f"shared/Makefile build-SharedLayer failed:\n{built.stdout}{built.stderr}")
    return artifacts / "python"


def _runtime(into: Path) -> Path:
    """What Lambda's python3.11 runtime brings: boto3 and its dependencies, compiled."""
    site = Path(boto3.__file__).resolve().parent.parent
    into.mkdir(parents=True)
    for name in RUNTIME_PACKAGES:
        source = site / name
        if source.is_dir():
            shutil.copytree(source, into / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, into / name)
    _compile(into)
    return into


def _compile(path: Path) -> None:
    subprocess.run(  # noqa: S603 - this interpreter
        [sys.executable, "-m", "compileall", "-q", "-j0", "--invalidation-mode", "unchecked-hash", str(path)],
        check=True,
        stdout=subprocess.DEVNULL,
    )


def _read_only(root: Path) -> None:
    for path in [root, *root.rglob("*")]:
        if not path.is_symlink():
            path.chmod(path.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))


def _writable(root: Path) -> None:
    for path in [root, *root.rglob("*")]:
        if not path.is_symlink():
            path.chmod(path.stat().st_mode | stat.S_IWUSR)


@contextmanager
def artifacts() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="coldstart-") as name:
        root = Path(name)
        try:
            yield root
        finally:
            _writable(root)


def _base_env(function: str) -> dict[str, str]:
    """What Lambda sets in every function's environment (credentials included: a client reads them)."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "TZ": ":UTC",
        "PYTHONDONTWRITEBYTECODE": "1",
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "coldstart",
        "AWS_SECRET_ACCESS_KEY": "coldstart",
        "AWS_SESSION_TOKEN": "coldstart",
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.11",
        "AWS_LAMBDA_FUNCTION_NAME": function,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
        "AWS_LAMBDA_FUNCTION_VERSION": "1",
    }


def targets(root: Path) -> tuple[Target, list[Target]]:
    """Build everything under `root`: (the floor, what is compared with it)."""
    layer = build_layer(root / "layer")
    runtime = _runtime(root / "runtime")
    empty = root / "empty"
    empty.mkdir()
    refs = {"Table": "license-manager", **{key: f"alias/{key}" for key in kms_keys()}}
    floor = Target("floor: `import boto3` + a DynamoDB client", FLOOR, [runtime], empty, _base_env("floor"))
    compared: list[Target] = []
    for function, code_uri in _functions().items():
        code = root / "functions" / function
        shutil.copytree(ROOT / code_uri, code, ignore=shutil.ignore_patterns("__pycache__"))
        env = {**_base_env(function), **function_environment(function, refs), "LAMBDA_TASK_ROOT": str(code)}
        compared.append(Target(function, FUNCTION, [code, layer, runtime], code, env, goal=True))
    for name, label, source in (
        ("reference", "Powertools reference app (resolver, 1 validated route)", REFERENCE_APP),
        ("thin", "the same app, thin router (no Powertools resolver)", THIN_APP),
    ):
        app = root / name
        app.mkdir()
        (app / "app.py").write_text(source)
        env = {**_base_env(name.title()), "LAMBDA_TASK_ROOT": str(app)}
        compared.append(Target(label, REFERENCE, [app, layer, runtime], app, env))
    bounds = root / "bounds"
    bounds.mkdir()
    for label, body in BOUNDS.items():
        env = {**_base_env("Bound"), "LAMBDA_TASK_ROOT": str(bounds)}
        compared.append(Target(label, body, [bounds, layer, runtime], bounds, env))
    # The overview as the layer shipped before shared/Makefile: no byte-code at all.
    uncompiled = root / "uncompiled"
    shutil.copytree(layer, uncompiled / "python", ignore=shutil.ignore_patterns("__pycache__"))
    overview = next(t for t in compared if t.label == "OverviewFunction")
    compared.append(
        Target(
            "OverviewFunction, layer without byte-code (before)",
            FUNCTION,
            [overview.path[0], uncompiled / "python", runtime],
            overview.cwd,
            overview.env,
        )
    )
    _read_only(root)
    return floor, compared


def _sample(target: Target, *options: str) -> dict[str, float]:
    sample, _ = _run(target, *options)
    return sample


def _run(target: Target, *options: str) -> tuple[dict[str, float], str]:
    """One fresh child: its sample, and what it wrote to stderr."""
    done = subprocess.run(  # noqa: S603 - this interpreter, our own code
        [sys.executable, *options, "-S", "-c", CHILD.format(body=target.body)],
        env={**target.env, "PYTHONPATH": os.pathsep.join(str(p) for p in target.path)},
        cwd=target.cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{target.label}: {done.stderr.strip()[-2000:]}")
    sample: dict[str, float] = json.loads(done.stdout)
    return sample, done.stderr


# Where a cold start's time goes, by who is imported (`-X importtime`, each module's own time)
GROUPS = {
    "boto3": "boto3, botocore and their dependencies (the floor's own)",
    "botocore": "boto3, botocore and their dependencies (the floor's own)",
    "s3transfer": "boto3, botocore and their dependencies (the floor's own)",
    "jmespath": "boto3, botocore and their dependencies (the floor's own)",
    "dateutil": "boto3, botocore and their dependencies (the floor's own)",
    "urllib3": "boto3, botocore and their dependencies (the floor's own)",
    "six": "boto3, botocore and their dependencies (the floor's own)",
    "pydantic": "pydantic, pydantic-core and typing helpers",
    "pydantic_core": "pydantic, pydantic-core and typing helpers",
    "typing_extensions": "pydantic, pydantic-core and typing helpers",
    "annotated_types": "pydantic, pydantic-core and typing helpers",
    "typing_inspection": "pydantic, pydantic-core and typing helpers",
    "aws_lambda_powertools.event_handler": "Powertools' event_handler (the resolver and its OpenAPI models)",
    "aws_lambda_powertools": "Powertools' logger, metrics, tracer and shared modules",
    "aws_xray_sdk": "the X-Ray SDK and wrapt (Powertools' tracer)",
    "wrapt": "the X-Ray SDK and wrapt (Powertools' tracer)",
    "license_manager": "License Manager's own modules (the layer's package)",
    "app": "License Manager's own modules (the layer's package)",
}
OTHER = "the standard library and the rest"
OUTSIDE = "running, not importing: module bodies' calls, the client, settings, route registration"


def _group(module: str) -> str:
    parts = module.split(".")
    return GROUPS.get(".".join(parts[:2])) or GROUPS.get(parts[0]) or OTHER


def profile(target: Target, runs: int = 5) -> dict[str, float]:
    """Milliseconds per group for `target`, the median of `runs` children under -X importtime."""
    found: dict[str, list[float]] = {}
    for _ in range(runs):
        sample, stderr = _run(target, "-X", "importtime")
        groups: dict[str, float] = {}
        for line in stderr.splitlines():
            if not line.startswith("import time:") or "self [us]" in line:
                continue
            own, _cumulative, name = line.removeprefix("import time:").split("|")
            groups[_group(name.strip())] = groups.get(_group(name.strip()), 0.0) + int(own) / 1000
        groups[OUTSIDE] = max(0.0, sample["ms"] - sum(groups.values()))
        for group, ms in groups.items():
            found.setdefault(group, []).append(ms)
    return {group: statistics.median(values) for group, values in found.items()}


@dataclass(frozen=True)
class Size:
    label: str
    files: int
    unzipped: int  # bytes
    zipped: int  # bytes, as a deployment package (deflate)


def _size(label: str, root: Path) -> Size:
    files = [p for p in sorted(root.rglob("*")) if p.is_file()]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as package:
        for path in files:
            package.write(path, path.relative_to(root).as_posix())
    return Size(label, len(files), sum(p.stat().st_size for p in files), buffer.tell())


SIZES: list[Size] = []  # filled by measure(): the packages as built


def measure(rounds: int = ROUNDS) -> tuple[list[float], list[Target]]:
    """(floor ms per round, the targets with their samples); SIZES gets the packages' sizes."""
    shuffle = random.Random(1)  # noqa: S311 - an order, not a secret
    floors: list[float] = []
    with artifacts() as root:
        floor, compared = targets(root)
        SIZES.clear()
        SIZES.append(_size("SharedLayer (python/)", root / "layer"))
        SIZES.extend(_size(t.label, t.path[0]) for t in compared if t.goal)
        for target in [floor, *compared]:  # a warm-up each: the page cache, not the byte-code
            _sample(target)
        for _ in range(rounds):
            order = compared[:]
            shuffle.shuffle(order)
            before = _sample(floor)["ms"]
            samples = {target.label: _sample(target) for target in order}
            after = _sample(floor)["ms"]
            round_floor = (before + after) / 2
            floors.append(round_floor)
            for target in compared:
                sample = samples[target.label]
                target.ms.append(sample["ms"])
                target.ratios.append(sample["ms"] / round_floor)
                target.rss_kib.append(int(sample["rss_kib"]))
                target.modules = int(sample["modules"])
        floor_sample = _sample(floor)
        floor.rss_kib.append(int(floor_sample["rss_kib"]))
        floor.modules = int(floor_sample["modules"])
        slowest = max((t for t in compared if t.goal), key=lambda t: statistics.median(t.ratios))
        PROFILES.clear()
        PROFILES.update({floor.label: profile(floor), slowest.label: profile(slowest)})
    return floors, [floor, *compared]


PROFILES: dict[str, dict[str, float]] = {}  # filled by measure(): the floor's and the slowest function's


def section(rounds: int = ROUNDS) -> tuple[str, bool]:
    """The "Cold start" section of docs/benchmarks.md, and whether every function meets the goal."""
    floors, measured = measure(rounds)
    floor, compared = measured[0], measured[1:]
    functions = [t for t in compared if t.goal]
    ok = all(statistics.median(t.ratios) <= GOAL for t in functions)
    rows = "\n".join(
        f"| {t.label} | {statistics.median(t.ms):.0f} ms | **{statistics.median(t.ratios):.2f}x** "
        f"| {statistics.median(t.rss_kib) / 1024:.1f} MiB | {t.modules} |"
        + ("" if not t.goal else (" met |" if statistics.median(t.ratios) <= GOAL else " NOT met |"))
        + ("" if t.goal else " - |")
        for t in compared
    )
    worst = max(functions, key=lambda t: statistics.median(t.ratios))
    sizes = "\n".join(
        f"| {z.label} | {z.files:,} | {z.unzipped / 1024:,.0f} KiB | {z.zipped / 1024:,.0f} KiB |" for z in SIZES
    )
    profile_of = PROFILES.get(worst.label, {})
    floor_profile = PROFILES.get(floor.label, {})
    total = sum(profile_of.values()) or 1.0
    order = sorted(profile_of, key=lambda group: -profile_of[group])
    profile_rows = "\n".join(
        f"| {group} | {floor_profile.get(group, 0.0):.0f} ms | {profile_of[group]:.0f} ms "
        f"| {100 * profile_of[group] / total:.0f} % |"
        for group in order
    )
    text = f"""## Cold start: handler import + DynamoDB client, as built

The floor is `import boto3` + one DynamoDB client in a fresh process: **{statistics.median(floors):.0f} ms**
median here ({floor.rss_kib[0] / 1024:.1f} MiB peak, {floor.modules} modules). Each function's cold start
(import of `app.py` + `license_manager.store.dynamo.client()`) is measured on the artifacts as built:
the layer by `shared/Makefile` (for this machine's platform), each function's directory as SAM
copies it, boto3 as the runtime's; fresh `python -S` processes with Lambda's `sys.path`, the
function's environment from template.yaml, no writable byte-code cache, timed inside the child.
{rounds} interleaved rounds; a ratio is to the floor of its own round (the mean of one floor
sample at each end), and the medians are shown. Peak memory is the child's own high-water mark
(`VmHWM`) after the import and the client.

| code | median time | ratio to the floor | peak memory | modules loaded | goal <= {GOAL}x |
| --- | ---: | ---: | ---: | ---: | --- |
{rows}

Every function <= {GOAL} x the floor: **{"met" if ok else "NOT met"}** (the slowest:
{worst.label}, {statistics.median(worst.ratios):.2f}x). The "bound" rows are what any function
validating with pydantic and logging, counting and tracing with Powertools pays before its first
route, with no router at all: no router, however thin, brings a function below them
(docs/decisions.md, "Performance"). The functions load with the garbage collector off until their
set-up is done (`license_manager/loading.py`); the last bound is loaded that way too, so it stays
below them. The last row is the overview on the layer as `sam build` shipped it before
`shared/Makefile`: no byte-code, so every module is compiled at every cold start.

Where the time goes: the floor and the slowest function ({worst.label}), each in 5 fresh
children under `python -X importtime` (each module's own import time, grouped by who it belongs
to; the medians; importtime itself adds a little to every import), and the rest of the measured
time, spent running rather than importing:

| | floor | {worst.label} | share |
| --- | ---: | ---: | ---: |
{profile_rows}

Package sizes, as built (the layer for this machine's platform; the arm64 one differs only in its
compiled wheels):

| package | files | unzipped | zipped |
| --- | ---: | ---: | ---: |
{sizes}
"""
    return text, ok


def main() -> int:
    text, ok = section()
    print(text)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

"""Publish the web console to the stack `sam deploy` made: `make deploy` runs it after SAM.

It reads the stack's outputs (the bucket, the distribution, the API's URL, the Cognito domain and
app client), uploads console/ with the right content types, writes the runtime configuration the
console reads at start (`/console/config.json`), and asks CloudFront to drop what it cached.

    python -m tools.deploy_console [--config-env dev|prod] [--stack NAME]
    (the stack: --stack, else the environment's stack_name in samconfig.toml)
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import tomllib
from pathlib import Path
from typing import Any

import boto3

from tools.console_files import CONSOLE, TYPES
from tools.template import ROOT


def runtime_config(outputs: dict[str, str]) -> dict[str, Any]:
    """What the console needs to know in AWS: where the API is, and how to sign in."""
    console_url = outputs["ConsoleUrl"].rstrip("/")
    config: dict[str, Any] = {"mode": "cognito", "apiUrl": outputs["ApiUrl"], "redirectUri": f"{console_url}/"}
    if "CognitoDomain" in outputs and "UserPoolClientId" in outputs:
        config.update(cognitoDomain=outputs["CognitoDomain"], clientId=outputs["UserPoolClientId"])
    if "VendorCognitoDomain" in outputs and "VendorUserPoolClientId" in outputs:  # vendor staff: own pool, MFA
        config["vendor"] = {
            "cognitoDomain": outputs["VendorCognitoDomain"],
            "clientId": outputs["VendorUserPoolClientId"],
        }
    return config


def files(console: Path = CONSOLE) -> list[tuple[str, Path]]:
    """(object key, file): every file under console/ as /console/<path>, and the page at /."""
    found = [(f"console/{p.relative_to(console).as_posix()}", p) for p in sorted(console.rglob("*")) if p.is_file()]
    return [("index.html", console / "index.html"), *[(k, p) for k, p in found if p.suffix in TYPES]]


def publish(s3: Any, bucket: str, config: dict[str, Any], console: Path = CONSOLE) -> list[str]:
    """Upload the console and its configuration; returns the keys written."""
    written = []
    for key, path in files(console):
        cache = "no-cache" if path.suffix in (".html", ".json") else "max-age=300"
        s3.put_object(
            Bucket=bucket, Key=key, Body=path.read_bytes(), ContentType=TYPES[path.suffix], CacheControl=cache
        )
        written.append(key)
    body = json.dumps(config, indent=2).encode()
    s3.put_object(
        Bucket=bucket, Key="console/config.json", Body=body, ContentType=TYPES[".json"], CacheControl="no-store"
    )
    return [*written, "console/config.json"]


def deploy_parameters(env: str, samconfig: Path = ROOT / "samconfig.toml") -> dict[str, Any]:
    """`[<env>.deploy.parameters]` of samconfig.toml (what `sam deploy --config-env <env>` uses)."""
    if not samconfig.exists():
        return {}
    parameters = tomllib.loads(samconfig.read_text()).get(env, {}).get("deploy", {}).get("parameters", {})
    return dict(parameters)


def stack_name(env: str = "dev", samconfig: Path = ROOT / "samconfig.toml") -> str:
    name = deploy_parameters(env, samconfig).get("stack_name")
    if name:
        return str(name)
    raise SystemExit(f"no stack name: pass --stack, or give [{env}.deploy.parameters] a stack_name in samconfig.toml")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config-env", default="dev", help="samconfig.toml environment (default: dev)")
    parser.add_argument("--stack", default=None)
    args = parser.parse_args(argv)
    name = args.stack or stack_name(args.config_env)
    stack = boto3.client("cloudformation").describe_stacks(StackName=name)["Stacks"][0]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    written = publish(boto3.client("s3"), outputs["ConsoleBucketName"], runtime_config(outputs))
    boto3.client("cloudfront").create_invalidation(
        DistributionId=outputs["ConsoleDistributionId"],
        InvalidationBatch={"Paths": {"Quantity": 1, "Items": ["/*"]}, "CallerReference": str(time.time())},
    )
    print(f"published {len(written)} files; the console is at {outputs['ConsoleUrl']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""`make deploy` publishes the console with its runtime configuration (S3 played by moto)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from tools.deploy_console import deploy_parameters, files, publish, runtime_config, stack_name
from tools.template import load

OUTPUTS = {
    "ApiUrl": "https://abc123.execute-api.eu-north-1.amazonaws.com",
    "ConsoleUrl": "https://d111111abcdef8.cloudfront.net",
    "CognitoDomain": "license-manager-console.auth.eu-north-1.amazoncognito.com",
    "UserPoolClientId": "5example0client0id",
    "VendorCognitoDomain": "license-manager-console-vendor.auth.eu-north-1.amazoncognito.com",
    "VendorUserPoolClientId": "7vendor0client0id",
    "ConsoleBucketName": "console-bucket",
    "ConsoleDistributionId": "E2EXAMPLE",
}


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket="console-bucket")
        yield client


def test_the_console_learns_where_the_api_is_and_how_to_sign_in() -> None:
    config = runtime_config(OUTPUTS)
    assert config == {
        "mode": "cognito",
        "apiUrl": OUTPUTS["ApiUrl"],
        "redirectUri": "https://d111111abcdef8.cloudfront.net/",
        "cognitoDomain": OUTPUTS["CognitoDomain"],
        "clientId": OUTPUTS["UserPoolClientId"],
        "vendor": {"cognitoDomain": OUTPUTS["VendorCognitoDomain"], "clientId": OUTPUTS["VendorUserPoolClientId"]},
    }


def test_a_stack_with_an_outside_identity_provider_still_signs_vendor_staff_in_with_their_pool() -> None:
    outputs = {k: v for k, v in OUTPUTS.items() if k not in ("CognitoDomain", "UserPoolClientId")}
    config = runtime_config(outputs)
    assert "cognitoDomain" not in config
    assert config["vendor"]["clientId"] == OUTPUTS["VendorUserPoolClientId"]


def test_every_console_file_is_published_with_its_type_and_the_page_at_the_root(s3: object) -> None:
    written = publish(s3, "console-bucket", runtime_config(OUTPUTS))
    assert "index.html" in written
    assert "console/app.js" in written
    assert "console/i18n/fr.json" in written
    head = s3.head_object(Bucket="console-bucket", Key="console/app.js")  # type: ignore[attr-defined]
    assert head["ContentType"].startswith("text/javascript")
    config = s3.get_object(Bucket="console-bucket", Key="console/config.json")["Body"].read()  # type: ignore[attr-defined]
    assert json.loads(config)["mode"] == "cognito"
    assert len(written) == len(files()) + 1


def test_each_environment_names_its_own_stack() -> None:
    assert stack_name("dev") != stack_name("prod")
    with pytest.raises(SystemExit, match="staging"):
        stack_name("staging")


def test_every_environment_passes_only_parameters_the_template_accepts() -> None:
    """A typo or a value outside AllowedValues would fail `sam deploy` only at deploy time."""
    parameters = load()["Parameters"]
    for env in ("dev", "prod"):
        overrides = deploy_parameters(env)["parameter_overrides"]
        assert overrides, env
        for override in overrides:
            name, _, value = override.partition("=")
            spec = parameters[name]  # KeyError: not a parameter of the template
            if "AllowedValues" in spec:
                assert value in [str(v) for v in spec["AllowedValues"]], override
            if "AllowedPattern" in spec:
                assert re.fullmatch(spec["AllowedPattern"], value), override
            if "MinValue" in spec:
                assert float(value) >= spec["MinValue"], override
    prod = dict(o.split("=", 1) for o in deploy_parameters("prod")["parameter_overrides"])
    assert prod["DeploymentStrategy"].startswith("Canary")  # a bad version reaches 10 % first

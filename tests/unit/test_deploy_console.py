"""`make deploy` publishes the console with its runtime configuration (S3 played by moto)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from tools.deploy_console import files, publish, runtime_config

OUTPUTS = {
    "ApiUrl": "https://abc123.execute-api.eu-north-1.amazonaws.com",
    "ConsoleUrl": "https://d111111abcdef8.cloudfront.net",
    "CognitoDomain": "license-manager-console.auth.eu-north-1.amazoncognito.com",
    "UserPoolClientId": "5example0client0id",
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
    }


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

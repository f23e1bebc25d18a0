"""template.yaml is the single source of routes and table shape: check what both depend on."""

from __future__ import annotations

import re
from typing import Any

from tools.template import ROOT, condition, console_headers, function_environment, load, routes, table_definition

# The HTTP API contract (docs/api.md): method and path.
CONTRACT = {
    ("GET", "/products"),
    ("GET", "/resellers"),
    ("POST", "/orgs"),
    ("GET", "/orgs"),
    ("GET", "/orgs/{org_id}/members"),
    ("POST", "/orgs/{org_id}/members"),
    ("DELETE", "/orgs/{org_id}/members/{email}"),
    ("GET", "/orgs/{org_id}/history"),
    ("POST", "/orgs/{org_id}/trials"),
    ("POST", "/orgs/{org_id}/activations"),
    ("PUT", "/orgs/{org_id}/products/{product_id}/usage"),
    ("GET", "/orgs/{org_id}/overview"),
    ("GET", "/orgs/{org_id}/wallet"),
    ("POST", "/orgs/{org_id}/redemptions"),
    ("POST", "/admin/license-keys"),
    ("POST", "/admin/license-keys/{key_id}/revoke"),
    ("POST", "/orgs/{org_id}/systems/registration-codes"),
    ("GET", "/orgs/{org_id}/systems"),
    ("DELETE", "/orgs/{org_id}/systems/{system_id}"),
    ("POST", "/orgs/{org_id}/systems/offline"),
}


def resources(kind: str) -> dict[str, Any]:
    return {k: v for k, v in load()["Resources"].items() if v["Type"] == kind}


# Routes behind no user authorizer: the installed software's (it has its own credential, checked
# by the function) and the public keys that verify licenses.
PUBLIC = {
    ("POST", "/systems/register"),
    ("PUT", "/systems/{system_id}/usage"),
    ("GET", "/systems/{system_id}/license"),
    ("POST", "/systems/{system_id}/credential"),
    ("GET", "/.well-known/jwks.json"),
}


def test_routes_cover_the_contract_and_all_but_the_public_ones_need_a_token() -> None:
    found = routes()
    assert {(r.method, r.path) for r in found if r.path} >= CONTRACT | PUBLIC
    fallbacks = [r for r in found if r.path is None]
    assert len(fallbacks) == 1
    assert not fallbacks[0].authorized
    assert {(r.method, r.path) for r in found if r.path is not None and not r.authorized} == PUBLIC


def test_every_function_has_code_and_a_handler() -> None:
    for route in routes():
        module, _, func = route.handler.rpartition(".")
        source = ROOT / route.code_uri / f"{module}.py"
        assert source.is_file(), source
        text = source.read_text()
        assert f"def {func}(" in text or f"{func} = handler(app)" in text


def test_table_is_safe_to_run_in_production() -> None:
    props = resources("AWS::DynamoDB::Table")["Table"]["Properties"]
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert props["DeletionProtectionEnabled"] is True
    definition = table_definition()
    assert [k["AttributeName"] for k in definition["KeySchema"]] == ["PK", "SK"]
    indexes = {g["IndexName"]: g for g in definition["GlobalSecondaryIndexes"]}
    assert set(indexes) == {"GSI1", "GSI2"}
    assert indexes["GSI2"]["Projection"]["ProjectionType"] == "ALL"  # the sweep decides from the index item


def test_functions_have_least_privilege() -> None:
    for name, fn in resources("AWS::Serverless::Function").items():
        for policy in fn["Properties"].get("Policies", []):
            for statement in policy.get("Statement", []):
                actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                assert all("*" not in a for a in actions), name
                assert statement.get("Resource") != "*", name
    catalog = resources("AWS::Serverless::Function")["CatalogFunction"]["Properties"]
    assert "Policies" not in catalog  # reads files only


def test_functions_are_python_311_on_arm_with_the_shared_layer() -> None:
    fn = load()["Globals"]["Function"]
    assert fn["Runtime"] == "python3.11"
    assert fn["Architectures"] == ["arm64"]
    layer = resources("AWS::Serverless::LayerVersion")["SharedLayer"]
    assert layer["Properties"]["ContentUri"] == "shared/"
    assert layer["Metadata"] == {"BuildMethod": "makefile", "BuildArchitecture": "arm64"}  # shared/Makefile


def test_every_function_has_a_log_group_with_retention() -> None:
    groups = resources("AWS::Logs::LogGroup")
    functions = set(resources("AWS::Serverless::Function"))
    covered = {
        g["Properties"]["LogGroupName"]["Fn::Sub"].split("${")[1].rstrip("}")
        for g in groups.values()
        if "LogGroupName" in g["Properties"]
    }
    assert covered == functions
    assert all("RetentionInDays" in g["Properties"] for g in groups.values())


def test_the_renewal_sweep_runs_on_a_schedule_with_somewhere_to_fail_to() -> None:
    template = load()
    fn = resources("AWS::Serverless::Function")["RenewalCronFunction"]["Properties"]
    (event,) = fn["Events"].values()
    assert event["Type"] == "Schedule"
    schedule = event["Properties"]["Schedule"]["Fn::FindInMap"]
    assert schedule[:2] == ["RenewalInterval", {"Ref": "RenewalIntervalMinutes"}]
    default = template["Parameters"]["RenewalIntervalMinutes"]["Default"]
    assert template["Mappings"]["RenewalInterval"][default]["Schedule"] == "rate(1 hour)"
    assert fn["ReservedConcurrentExecutions"] == 1  # one sweep at a time, always room for it
    assert "Arn" in event["Properties"]["DeadLetterConfig"]
    assert fn["EventInvokeConfig"]["DestinationConfig"]["OnFailure"]["Type"] == "SQS"
    assert fn["Timeout"] >= 60  # room for the sweep to stop cleanly before the end
    actions = {
        a
        for p in fn["Policies"]
        for st in p["Statement"]
        for a in (st["Action"] if isinstance(st["Action"], list) else [st["Action"]])
    }
    assert "dynamodb:Scan" not in actions
    assert "events:PutEvents" in actions


def test_the_console_is_private_behind_cloudfront_with_strict_headers() -> None:
    bucket = resources("AWS::S3::Bucket")["ConsoleBucket"]["Properties"]
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    distribution = resources("AWS::CloudFront::Distribution")["ConsoleDistribution"]["Properties"]["DistributionConfig"]
    (origin,) = distribution["Origins"]
    assert "OriginAccessControlId" in origin  # only CloudFront reads the bucket
    assert distribution["DefaultCacheBehavior"]["ViewerProtocolPolicy"] == "redirect-to-https"
    headers = console_headers()
    csp = headers["content-security-policy"]
    for directive in ("default-src 'self'", "script-src 'self'", "frame-ancestors 'none'", "object-src 'none'"):
        assert directive in csp
    assert "unsafe-inline" not in csp
    assert "unsafe-eval" not in csp


def test_the_console_signs_in_with_the_code_flow_and_the_api_trusts_only_its_origin() -> None:
    client = resources("AWS::Cognito::UserPoolClient")["UserPoolClient"]["Properties"]
    assert client["AllowedOAuthFlows"] == ["code"]  # no implicit flow
    assert client["GenerateSecret"] is False  # a public client: PKCE
    cors = resources("AWS::Serverless::HttpApi")["HttpApi"]["Properties"]["CorsConfiguration"]
    assert len(cors["AllowOrigins"]) == 1
    assert "ConsoleDistribution.DomainName" in str(cors["AllowOrigins"][0])
    assert "idempotency-key" in cors["AllowHeaders"]


def test_the_license_signer_is_a_kms_p256_key_only_the_systems_function_may_use_to_sign() -> None:
    key = resources("AWS::KMS::Key")["LicenseSigningKey"]["Properties"]
    assert (key["KeySpec"], key["KeyUsage"]) == ("ECC_NIST_P256", "SIGN_VERIFY")
    signers = []
    for name, function in resources("AWS::Serverless::Function").items():
        for policy in function["Properties"].get("Policies", []):
            for statement in policy.get("Statement", []):
                if "LicenseSigningKey" in str(statement.get("Resource")):
                    signers.append(name)
                    assert sorted(statement["Action"]) == ["kms:GetPublicKey", "kms:Sign"]
    assert signers == ["SystemsFunction"]


# -- operations (docs/operations.md) ------------------------------------------------------------

ALARMS = {
    "ApiServerErrorRateAlarm",
    "ServerErrorsAlarm",
    "LambdaErrorsAlarm",
    "LambdaThrottlesAlarm",
    "ApiThrottledAlarm",
    "ApiDurationAlarm",
    "SweepDurationAlarm",
    "RenewalFailuresAlarm",
    "SweepHeartbeatAlarm",
    "SweepErrorsAlarm",
    "OutboxAgeAlarm",
    "TableThrottlesAlarm",
    "TableSystemErrorsAlarm",
}


def _runbook_anchors() -> set[str]:
    """GitHub-style anchors of docs/operations.md's headings."""
    text = (ROOT / "docs" / "operations.md").read_text()
    headings = re.findall(r"^#+ (.+)$", text, re.MULTILINE)
    return {re.sub(r"[^a-z0-9 -]", "", h.lower()).replace(" ", "-") for h in headings}


def test_every_alarm_notifies_the_topic_and_points_at_its_runbook() -> None:
    alarms = resources("AWS::CloudWatch::Alarm")
    assert set(alarms) == ALARMS
    anchors = _runbook_anchors()
    for name, alarm in alarms.items():
        props = alarm["Properties"]
        assert props["AlarmActions"] == [{"Ref": "AlarmTopic"}], name
        assert props["OKActions"] == [{"Ref": "AlarmTopic"}], name
        anchor = str(props["AlarmDescription"]).rsplit("docs/operations.md#", 1)[1].strip()
        assert anchor in anchors, f"{name}: no runbook section #{anchor}"
        assert ("MetricName" in props) != ("Metrics" in props), name
        if "Metrics" in props:
            assert sum(1 for m in props["Metrics"] if m.get("ReturnData", True)) == 1, name
            assert len(props["Metrics"]) <= 10, name  # CloudWatch's limit for an alarm's metric math
    subscription = resources("AWS::SNS::Subscription")["AlarmEmailSubscription"]
    assert subscription["Condition"] == "HasAlarmEmail"
    assert subscription["Properties"]["Endpoint"] == {"Ref": "AlarmEmail"}


def test_the_sweep_heartbeat_counts_missing_runs_as_failure_over_two_intervals() -> None:
    template = load()
    heartbeat = resources("AWS::CloudWatch::Alarm")["SweepHeartbeatAlarm"]["Properties"]
    assert heartbeat["MetricName"] == "SweepCompleted"
    assert heartbeat["TreatMissingData"] == "breaching"
    assert heartbeat["EvaluationPeriods"] == 2
    assert heartbeat["Period"]["Fn::FindInMap"][2] == "Seconds"
    for minutes, row in template["Mappings"]["RenewalInterval"].items():
        assert row["Seconds"] == int(minutes) * 60
        assert row["TwoIntervals"] == 2 * row["Seconds"]


def test_the_dashboard_shows_every_alarm() -> None:
    body = str(resources("AWS::CloudWatch::Dashboard")["Dashboard"]["Properties"]["DashboardBody"])
    for name in ALARMS:
        assert "${" + name + ".Arn}" in body


def test_deploys_are_gradual_traced_and_rolled_back_by_alarms() -> None:
    fn = load()["Globals"]["Function"]
    assert fn["Tracing"] == "Active"
    assert fn["AutoPublishAlias"] == "live"
    preference = fn["DeploymentPreference"]
    assert preference["Type"] == {"Ref": "DeploymentStrategy"}
    assert load()["Parameters"]["DeploymentStrategy"]["Default"].startswith("Canary")
    assert set(preference["Alarms"]) <= ALARMS
    assert {"ApiServerErrorRateAlarm", "ServerErrorsAlarm", "LambdaErrorsAlarm"} <= set(preference["Alarms"])


def test_access_logs_carry_what_on_call_searches_by() -> None:
    api = resources("AWS::Serverless::HttpApi")["HttpApi"]["Properties"]
    fields = set(__import__("json").loads(" ".join(str(api["AccessLogSettings"]["Format"]).split())))
    assert {"requestId", "method", "path", "status", "latencyMs", "integrationLatencyMs", "sub"} <= fields


def test_identities_outlive_the_stack_and_vendor_staff_need_mfa() -> None:
    pools = resources("AWS::Cognito::UserPool")
    assert set(pools) == {"UserPool", "VendorUserPool"}
    for name, pool in pools.items():
        assert (pool["DeletionPolicy"], pool["UpdateReplacePolicy"]) == ("Retain", "Retain"), name
        assert pool["Properties"]["DeletionProtection"] == "ACTIVE", name
    vendor = pools["VendorUserPool"]["Properties"]
    assert vendor["MfaConfiguration"] == "ON"
    assert vendor["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    group = resources("AWS::Cognito::UserPoolGroup")["VendorAdminGroup"]["Properties"]
    assert group["UserPoolId"] == {"Ref": "VendorUserPool"}
    admin_routes = list(load()["Resources"]["AdminKeysFunction"]["Properties"]["Events"].values())
    assert admin_routes
    assert all(r["Properties"]["Auth"]["Authorizer"] == "VendorJwt" for r in admin_routes)
    authorizers = resources("AWS::Serverless::HttpApi")["HttpApi"]["Properties"]["Auth"]["Authorizers"]
    assert "VendorUserPool" in str(authorizers["VendorJwt"]["JwtConfiguration"]["issuer"])


def test_issuer_and_audience_are_set_together() -> None:
    rule = load()["Rules"]["IssuerAndAudienceTogether"]["Assertions"][0]["Assert"]
    assert "JwtIssuer" in str(rule)
    assert "JwtAudience" in str(rule)


def test_the_functions_can_be_pointed_at_a_restored_table() -> None:
    assert condition("CreateTable")
    assert function_environment("OrgsFunction", {"Table": "stack-table"})["TABLE_NAME"] == "stack-table"
    assert not condition("CreateTable", params={"TableName": "restored-2027-01-15"})
    for name, function in resources("AWS::Serverless::Function").items():
        for policy in function["Properties"].get("Policies", []):
            for statement in policy.get("Statement", []):
                if any(str(a).startswith("dynamodb:") for a in statement["Action"]):
                    assert "TableName" in str(statement["Resource"]), name  # follows the parameter


def test_routes_that_invite_guessing_or_floods_are_throttled_tighter() -> None:
    api = resources("AWS::Serverless::HttpApi")["HttpApi"]["Properties"]
    default = api["DefaultRouteSettings"]["ThrottlingRateLimit"]
    tight = api["RouteSettings"]
    for route in ("POST /systems/register", "POST /orgs/{org_id}/redemptions", "$default", "POST /admin/license-keys"):
        assert tight[route]["ThrottlingRateLimit"] < default, route
    redeem = resources("AWS::Serverless::Function")["RedeemFunction"]["Properties"]
    assert "RedeemReservedConcurrency" in str(redeem["ReservedConcurrentExecutions"])

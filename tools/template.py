"""What the dev server, the tests and the tools take from template.yaml: the routes, the table,
the KMS keys, and each function's environment."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from cfnlint.decode import decode

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "template.yaml"


@lru_cache(maxsize=4)
def load(path: Path = TEMPLATE) -> dict[str, Any]:
    template, matches = decode(str(path))
    if template is None:
        raise ValueError(f"cannot read {path}: {matches}")
    return dict(template)


class TemplateError(ValueError):
    """template.yaml says something the local tools cannot reproduce."""


@dataclass(frozen=True)
class Route:
    """One HttpApi event of one function. `path is None` is the catch-all $default route."""

    function: str  # logical id, e.g. OrgsFunction
    code_uri: str
    handler: str
    method: str | None
    path: str | None
    authorized: bool
    timeout: int

    @property
    def route_key(self) -> str:
        return "$default" if self.path is None else f"{self.method} {self.path}"

    def match(self, method: str, path: str) -> dict[str, str] | None:
        if self.path is None or (self.method not in (method, "ANY")):
            return None
        params: dict[str, str] = {}
        want = self.path.strip("/").split("/")
        got = path.strip("/").split("/")
        for i, segment in enumerate(want):
            greedy = re.fullmatch(r"\{(\w+)\+\}", segment)
            if greedy:
                params[greedy.group(1)] = "/".join(got[i:])
                return params if len(got) > i else None
            if i >= len(got):
                return None
            param = re.fullmatch(r"\{(\w+)\}", segment)
            if param:
                if not got[i]:
                    return None
                params[param.group(1)] = got[i]
            elif segment != got[i]:
                return None
        return params if len(got) == len(want) else None

    @property
    def specificity(self) -> tuple[int, int]:
        segments = (self.path or "").strip("/").split("/")
        return (sum(1 for s in segments if not s.startswith("{")), len(segments))


def _functions(template: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(logical id, properties, Globals.Function) of every SAM function."""
    globals_fn = template.get("Globals", {}).get("Function", {})
    for logical_id, resource in template["Resources"].items():
        if resource.get("Type") == "AWS::Serverless::Function":
            yield str(logical_id), resource["Properties"], globals_fn


def _route(logical_id: str, props: dict[str, Any], globals_fn: dict[str, Any], event: dict[str, Any]) -> Route:
    # plain str everywhere: cfn-lint's node strings cannot be pickled to worker processes
    return Route(
        function=logical_id,
        code_uri=str(props["CodeUri"]),
        handler=str(props.get("Handler", globals_fn.get("Handler", "app.lambda_handler"))),
        method=str(event["Method"]).upper() if "Method" in event else None,
        path=str(event["Path"]) if "Path" in event else None,
        authorized=event.get("Auth", {}).get("Authorizer") != "NONE",
        timeout=int(props.get("Timeout", globals_fn.get("Timeout", 3))),
    )


def routes(template: dict[str, Any] | None = None) -> list[Route]:
    """Every HttpApi event of every function; one without a path is the catch-all $default."""
    return [
        _route(logical_id, props, globals_fn, event.get("Properties", {}))
        for logical_id, props, globals_fn in _functions(template or load())
        for event in props.get("Events", {}).values()
        if event.get("Type") == "HttpApi"
    ]


def scheduled_functions(template: dict[str, Any] | None = None) -> list[Route]:
    """Functions run by an EventBridge schedule (as Routes without a method or path)."""
    return [
        _route(logical_id, props, globals_fn, {"Auth": {"Authorizer": "NONE"}})
        for logical_id, props, globals_fn in _functions(template or load())
        if any(e.get("Type") in ("Schedule", "ScheduleV2") for e in props.get("Events", {}).values())
    ]


def table_definition(template: dict[str, Any] | None = None, logical_id: str = "Table") -> dict[str, Any]:
    """create_table() arguments for the table exactly as declared (keys, attributes, GSIs)."""
    template = template or load()
    props = template["Resources"][logical_id]["Properties"]
    definition: dict[str, Any] = {
        "AttributeDefinitions": props["AttributeDefinitions"],
        "KeySchema": props["KeySchema"],
        "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
    }
    if props.get("GlobalSecondaryIndexes"):
        definition["GlobalSecondaryIndexes"] = [
            {k: v for k, v in gsi.items() if k in {"IndexName", "KeySchema", "Projection"}}
            for gsi in props["GlobalSecondaryIndexes"]
        ]
    return definition


def create_table(client: Any, table_name: str) -> None:
    """The table as declared, its time-to-live setting included."""
    client.create_table(TableName=table_name, **table_definition())
    client.get_waiter("table_exists").wait(TableName=table_name, WaiterConfig={"Delay": 0.1, "MaxAttempts": 50})
    ttl = load()["Resources"]["Table"]["Properties"].get("TimeToLiveSpecification")
    if ttl:
        client.update_time_to_live(
            TableName=table_name,
            TimeToLiveSpecification={"AttributeName": str(ttl["AttributeName"]), "Enabled": bool(ttl["Enabled"])},
        )


def kms_keys(template: dict[str, Any] | None = None) -> dict[str, dict[str, str]]:
    """KMS keys by logical id: create_key() arguments (KeySpec, KeyUsage, Description)."""
    template = template or load()
    return {
        str(logical_id): {
            name: str(resource["Properties"][name])
            for name in ("KeySpec", "KeyUsage", "Description")
            if name in resource["Properties"]
        }
        for logical_id, resource in template["Resources"].items()
        if resource.get("Type") == "AWS::KMS::Key"
    }


def key_variables(template: dict[str, Any] | None = None) -> dict[str, str]:
    """KMS key logical id -> the environment variable functions receive it in (`!Ref` key)."""
    template = template or load()
    keys = set(kms_keys(template))
    found: dict[str, str] = {}
    for _logical_id, props, _globals in _functions(template):
        for name, value in props.get("Environment", {}).get("Variables", {}).items():
            if isinstance(value, dict) and str(value.get("Ref")) in keys:
                found[str(value["Ref"])] = str(name)
    return found


def condition(name: str, template: dict[str, Any] | None = None, params: dict[str, str] | None = None) -> bool:
    """A template condition evaluated with the parameters' defaults (or `params`): Fn::Equals,
    Fn::Not, Fn::And, Fn::Or over !Ref parameters and literals."""
    template = template or load()
    known = {**_defaults(template), **(params or {})}

    def value(node: Any) -> Any:
        if isinstance(node, dict) and set(node) == {"Ref"}:
            return known[str(node["Ref"])]
        if isinstance(node, dict) and set(node) == {"Condition"}:
            return evaluate(template["Conditions"][str(node["Condition"])])
        if isinstance(node, dict):
            return evaluate(node)
        return str(node)

    def evaluate(node: Any) -> bool:
        ((function, args),) = node.items()
        if function == "Fn::Equals":
            return bool(value(args[0]) == value(args[1]))
        if function == "Fn::Not":
            return not value(args[0])
        if function == "Fn::And":
            return all(value(a) for a in args)
        if function == "Fn::Or":
            return any(value(a) for a in args)
        raise TemplateError(f"condition {name}: {function} is not evaluated locally")

    return evaluate(template["Conditions"][name])


def _defaults(template: dict[str, Any]) -> dict[str, str]:
    return {str(k): str(v["Default"]) for k, v in template.get("Parameters", {}).items() if "Default" in v}


def _resolve(value: Any, refs: dict[str, str], where: str, template: dict[str, Any] | None = None) -> str:
    """A variable's value: a plain scalar, a !Ref to a parameter or resource given in `refs`, or
    an !If on a condition (evaluated with the parameters' defaults)."""
    if isinstance(value, dict):
        if set(value) == {"Ref"} and str(value["Ref"]) in refs:
            return refs[str(value["Ref"])]
        if set(value) == {"Fn::If"}:
            name, if_true, if_false = value["Fn::If"]
            return _resolve(if_true if condition(str(name), template) else if_false, refs, where, template)
        raise TemplateError(f"{where}: cannot resolve {value} locally; add it to the dev server's references")
    return str(value).lower() if isinstance(value, bool) else str(value)


def function_environment(function: str, refs: dict[str, str], template: dict[str, Any] | None = None) -> dict[str, str]:
    """The environment variables `function` gets in AWS: Globals, then its own; each !Ref resolved
    through `refs` (parameter defaults are filled in here)."""
    template = template or load()
    known = {**_defaults(template), **refs}
    globals_vars = template.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})
    props = template["Resources"][function]["Properties"]
    own = props.get("Environment", {}).get("Variables", {})
    return {str(k): _resolve(v, known, f"{function}.{k}", template) for k, v in {**globals_vars, **own}.items()}


def _sub(text: str, values: dict[str, str]) -> str:
    """Fn::Sub of a plain string: ${Name} replaced from `values` (parameter defaults included)."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            raise TemplateError(f"cannot resolve ${{{name}}} locally")
        return values[name]

    return re.sub(r"\$\{([\w:.]+)\}", value, text)


def console_headers(template: dict[str, Any] | None = None, region: str = "eu-north-1") -> dict[str, str]:
    """The security headers CloudFront adds to the console (ConsoleSecurityHeaders), as HTTP headers
    (lower-case names), so the dev server serves the console under the same rules."""
    template = template or load()
    values = {**_defaults(template), "AWS::Region": region, "AWS::URLSuffix": "amazonaws.com"}
    config = template["Resources"]["ConsoleSecurityHeaders"]["Properties"]["ResponseHeadersPolicyConfig"]
    security = config["SecurityHeadersConfig"]
    csp = security["ContentSecurityPolicy"]["ContentSecurityPolicy"]
    csp_text = _sub(str(csp["Fn::Sub"]), values) if isinstance(csp, dict) else str(csp)
    hsts = security["StrictTransportSecurity"]
    headers = {
        "content-security-policy": " ".join(csp_text.split()),
        "strict-transport-security": f"max-age={hsts['AccessControlMaxAgeSec']}"
        + ("; includeSubDomains" if hsts.get("IncludeSubdomains") else "")
        + ("; preload" if hsts.get("Preload") else ""),
        "x-content-type-options": "nosniff",
        "x-frame-options": str(security["FrameOptions"]["FrameOption"]),
        "referrer-policy": str(security["ReferrerPolicy"]["ReferrerPolicy"]),
    }
    for item in config.get("CustomHeadersConfig", {}).get("Items", []):
        headers[str(item["Header"]).lower()] = str(item["Value"])
    return headers

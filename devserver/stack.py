"""The whole local stack, assembled from template.yaml: the embedded AWS (DynamoDB, KMS,
EventBridge), the table and keys, every function in its worker processes with its own
environment, the gateway and the /_dev endpoints behind one HTTP server."""

from __future__ import annotations

import logging
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import boto3

from devserver import tokens
from devserver.console import Console
from devserver.dev_routes import DevRoutes
from devserver.dynamo import EmbeddedDynamo
from devserver.gateway import Answer, Gateway, Request
from devserver.http import HttpServer, make_handler
from devserver.notifications import NotificationSink
from devserver.workers import FunctionPool
from tools.openapi import render
from tools.template import create_table, function_environment, kms_keys, routes, scheduled_functions

TABLE_NAME = "license-manager-local"
REGION = "eu-north-1"
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local", "AWS_DEFAULT_REGION": REGION}


class DevServer:
    """Used by `python -m devserver` and by the e2e tests."""

    def __init__(self, host: str = "127.0.0.1", port: int = 3000) -> None:
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's per-call access log
        os.environ.update({k: os.environ.get(k, v) for k, v in CREDENTIALS.items()})
        external = os.environ.get("DYNAMODB_ENDPOINT_URL")
        # the embedded AWS always serves KMS, EventBridge and SQS; DynamoDB too unless pointed elsewhere
        self.aws = EmbeddedDynamo().start()
        self.dynamodb_endpoint = external or self.aws.endpoint_url
        self.dynamodb_label = external or "embedded (moto)"
        table = os.environ.get("TABLE_NAME", TABLE_NAME)
        self._ensure_table(table)
        references = {"Table": table, **self._create_keys()}
        concurrency = int(os.environ.get("DEV_CONCURRENCY", "8"))
        queue_timeout = float(os.environ.get("DEV_QUEUE_TIMEOUT", "60"))
        self.routes = routes()
        self.scheduled = scheduled_functions()
        self.pools: dict[str, FunctionPool] = {}
        for route in [*self.routes, *self.scheduled]:
            if route.function not in self.pools:
                environment = {**function_environment(route.function, references), **self._overrides()}
                self.pools[route.function] = FunctionPool(route, environment, concurrency, queue_timeout)
        with ThreadPoolExecutor(max_workers=4) as starting:  # one warm worker each, in parallel
            list(starting.map(FunctionPool.warm, self.pools.values()))
        issuer = tokens.TokenIssuer()
        self.gateway = Gateway(self.routes, self.pools, issuer)
        self.dev = DevRoutes(self.gateway, self.scheduled, NotificationSink(self.aws.endpoint_url), issuer, REGION)
        self.openapi = render().encode()
        self.console = Console()
        self.httpd = HttpServer((host, port), make_handler(self.handle))
        self.url = f"http://{host}:{self.httpd.server_address[1]}"

    def _overrides(self) -> dict[str, str]:
        """What differs from AWS: local endpoints and credentials, and a quieter log."""
        return {
            **CREDENTIALS,
            "DYNAMODB_ENDPOINT_URL": self.dynamodb_endpoint,
            "EVENTS_ENDPOINT_URL": self.aws.endpoint_url,
            "KMS_ENDPOINT_URL": self.aws.endpoint_url,
            "POWERTOOLS_LOG_LEVEL": os.environ.get("DEV_LOG_LEVEL", "WARNING"),
            # metrics are lines on stdout in Lambda (EMF); here they would only be noise
            "POWERTOOLS_METRICS_DISABLED": os.environ.get("DEV_METRICS_DISABLED", "true"),
        }

    def _ensure_table(self, table: str) -> None:
        client = boto3.client("dynamodb", endpoint_url=self.dynamodb_endpoint, region_name=REGION)
        if table not in client.list_tables()["TableNames"]:
            create_table(client, table)

    def _create_keys(self) -> dict[str, str]:
        """The template's KMS keys, in the embedded KMS: logical id -> key id (what !Ref gives)."""
        kms = boto3.client("kms", endpoint_url=self.aws.endpoint_url, region_name=REGION)
        return {name: kms.create_key(**spec)["KeyMetadata"]["KeyId"] for name, spec in kms_keys().items()}

    def handle(self, request: Request) -> Answer:
        if self.console.serves(request.method, request.path):
            return self.console.handle(request.path)
        if request.path.startswith("/_dev/"):
            return self.dev.handle(request.method, request.path, request.body)
        if request.path == "/openapi.json" and request.method in ("GET", "HEAD"):
            return 200, {"content-type": "application/json"}, self.openapi
        return self.gateway.handle(request)

    def serve_forever(self) -> None:
        self.httpd.serve_forever(poll_interval=0.2)

    def close(self) -> None:
        """Stop accepting, stop every function's workers at once, stop the embedded AWS."""
        self.httpd.shutdown()
        self.httpd.server_close()
        closing = [threading.Thread(target=pool.close) for pool in self.pools.values()]
        for thread in closing:
            thread.start()
        for thread in closing:
            thread.join()
        self.aws.stop()

"""PLACEHOLDER (pc-stack): the reusable TOKEN authorizer's construct API, minimal; the authorizer
branch replaces this file with the real construct (stacks/common/token_authorizer.py)."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Sequence

import aws_cdk as cdk
from aws_cdk import aws_apigateway as apigw
from constructs import Construct

from stacks.common.lambda_function import PythonFunction

FUNCTION_DIR = Path(__file__).resolve().parents[2] / "lambda_src" / "token_authorizer"
# The token validation expression of the post: malformed headers get 401 without an invocation.
BEARER_JWT = r"^(Bearer )[a-zA-Z0-9\-_]+?\.[a-zA-Z0-9\-_]+?\.([a-zA-Z0-9\-_]+)$"


@dataclass(frozen=True)
class RoutePermission:
    method: str
    resource: str
    scope: str


class ThirdPartyTokenAuthorizer(Construct):
    def __init__(self, scope: Construct, id_: str, *, issuer: str, audience: str, jwks_url: str | None,
                 permissions: Sequence[RoutePermission], results_cache_ttl: cdk.Duration,
                 log_retention_days: int, service_name: str, metrics_namespace: str) -> None:
        super().__init__(scope, id_)
        self.function = PythonFunction(
            self, "Function", entry=FUNCTION_DIR, service_name=service_name, metrics_namespace=metrics_namespace,
            log_retention_days=log_retention_days, description="Verifies JWT access tokens (TOKEN authorizer)",
            environment={"ISSUER": issuer, "AUDIENCE": audience,
                         "JWKS_URL": jwks_url or cdk.Fn.join("", [issuer, "/.well-known/jwks.json"]),
                         "PERMISSIONS": json.dumps([asdict(p) for p in permissions])})
        self.authorizer = apigw.TokenAuthorizer(
            self, "Authorizer", handler=self.function.function,
            identity_source=apigw.IdentitySource.header("Authorization"),
            validation_regex=BEARER_JWT, results_cache_ttl=results_cache_ttl)

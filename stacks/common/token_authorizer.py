"""PLACEHOLDER (pc-stack): the reusable TOKEN authorizer's construct API, minimal, as merged on main
(the authorizer branch's stacks/common/token_authorizer.py replaces this file)."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Sequence

import aws_cdk as cdk
from aws_cdk import aws_apigateway as apigw
from constructs import Construct, IConstruct

from stacks.common.lambda_function import PythonFunction
from stacks.common.nag import acknowledge

FUNCTION_DIR = Path(__file__).resolve().parents[2] / "lambda_src" / "token_authorizer"
TOKEN_VALIDATION_REGEX = r"^(Bearer )[a-zA-Z0-9\-_]+?\.[a-zA-Z0-9\-_]+?\.([a-zA-Z0-9\-_]+)$"
MAX_PERMISSIONS_JSON_CHARS = 3000


@dataclass(frozen=True)
class RoutePermission:
    method: str
    resource: str
    scope: str


class ThirdPartyTokenAuthorizer(Construct):
    def __init__(self, scope: Construct, id_: str, *, issuer: str, audience: str | Sequence[str],
                 jwks_url: str | None, permissions: Sequence[RoutePermission], results_cache_ttl: cdk.Duration,
                 log_retention_days: int, service_name: str, metrics_namespace: str,
                 audience_claim: str = "aud") -> None:
        super().__init__(scope, id_)
        audiences = [audience] if isinstance(audience, str) else list(audience)
        self.function = PythonFunction(
            self, "Function", entry=FUNCTION_DIR, service_name=service_name, metrics_namespace=metrics_namespace,
            log_retention_days=log_retention_days, description="Verifies JWT access tokens (TOKEN authorizer)",
            environment={"ISSUER": issuer, "AUDIENCE": " ".join(audiences), "AUDIENCE_CLAIM": audience_claim,
                         "JWKS_URL": jwks_url or f"{issuer}/.well-known/jwks.json",
                         "PERMISSIONS": json.dumps([asdict(p) for p in permissions], separators=(",", ":"))})
        self.authorizer = apigw.TokenAuthorizer(
            self, "Authorizer", handler=self.function.function,
            identity_source=apigw.IdentitySource.header("Authorization"),
            validation_regex=TOKEN_VALIDATION_REGEX, results_cache_ttl=results_cache_ttl)

    @staticmethod
    def acknowledge_method(method: IConstruct) -> None:
        acknowledge(method, "AwsSolutions-COG4",
                    "The method is guarded by the Lambda TOKEN authorizer, which verifies the identity provider's "
                    "JWT access tokens and maps their scopes to routes.")

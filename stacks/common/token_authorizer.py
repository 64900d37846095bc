"""A Lambda TOKEN authorizer for the JWT access tokens of any OAuth 2.0 identity provider.

The pattern of "Use AWS Lambda authorizers with a third-party identity provider to secure
Amazon API Gateway REST APIs": the function (``lambda_src/token_authorizer``) verifies the
token against the provider's JWKS and answers one IAM policy listing every route of the
permissions mapping the token's scopes grant, which API Gateway caches for the token.
See ``docs/token_authorizer.md``.
"""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Sequence

import aws_cdk as cdk
from aws_cdk import aws_apigateway as apigw
from constructs import Construct, IConstruct

from lambda_src.token_authorizer.policy import TOKEN_VALIDATION_REGEX, ConfigurationError, parse_permissions
from stacks.common.lambda_function import PythonFunction
from stacks.common.nag import acknowledge

FUNCTION_DIR = Path(__file__).resolve().parents[2] / "lambda_src" / "token_authorizer"
MAX_RESULTS_CACHE_TTL = cdk.Duration.hours(1)  # API Gateway's limit
MAX_JWKS_TIMEOUT = cdk.Duration.seconds(5)
DEFAULT_JWKS_TIMEOUT = cdk.Duration.seconds(2)
# Clock skew tolerated on exp, nbf and iat.
DEFAULT_LEEWAY = cdk.Duration.seconds(30)
# At most one key set fetch per this for unknown kids, and after a failed fetch.
DEFAULT_JWKS_REFETCH_COOLDOWN = cdk.Duration.seconds(30)
# How long a key the provider withdrew may still verify tokens.
DEFAULT_JWKS_CACHE = cdk.Duration.minutes(5)
# Lambda allows 4 KiB of environment variables in all; the mapping must leave room for the rest.
MAX_PERMISSIONS_JSON_CHARS = 3000


@dataclass(frozen=True)
class RoutePermission:
    """``scope`` grants ``method`` (``GET``, ``POST``, ... or ``*``) on the API Gateway
    resource path ``resource`` (``/v3/clusters/{clusterName}``)."""

    method: str
    resource: str
    scope: str


def _seconds(duration: cdk.Duration, name: str, *, minimum: float, maximum: cdk.Duration) -> float:
    seconds = duration.to_seconds()
    if not minimum <= seconds <= maximum.to_seconds():
        raise ValueError(f"{name} must be between {minimum:g} s and {maximum.to_seconds():g} s, got {seconds:g} s")
    return seconds


def _audiences(audience: str | Sequence[str]) -> str:
    audiences = [audience] if isinstance(audience, str) else list(audience)
    if not audiences:
        raise ValueError("audience must name at least one audience")
    for value in audiences:
        if not cdk.Token.is_unresolved(value) and (not value or len(value.split()) != 1):
            raise ValueError(f"each audience must be one non-empty word, got {value!r}")
    return " ".join(audiences)


def _checked_https(value: str, name: str) -> str:
    if not cdk.Token.is_unresolved(value) and not (value.startswith("https://") and len(value.split()) == 1):
        raise ValueError(f"{name} must be an https:// URL, got {value!r}")
    return value


class ThirdPartyTokenAuthorizer(Construct):
    """The authorizer (``authorizer``, identity source ``Authorization``, the post's token
    validation expression, results cached for ``results_cache_ttl``) and its function
    (``function``).

    ``issuer`` is the tokens' ``iss`` exactly; ``audience`` the API's audience, or several
    (``audience_claim`` names the claim: ``aud`` by default, ``client_id`` for Cognito access
    tokens, which have no ``aud``). ``jwks_url`` defaults to ``<issuer>/.well-known/jwks.json``
    (Cognito, Auth0); Okta and Entra ID publish their keys elsewhere (see the docs).

    Methods use it with ``authorizer=...authorizer`` (authorization type CUSTOM) and pass
    themselves to :meth:`acknowledge_method` for cdk-nag's Cognito-authorizer rule.
    """

    def __init__(self, scope: Construct, id_: str, *, issuer: str, audience: str | Sequence[str],
                 jwks_url: str | None, permissions: Sequence[RoutePermission], results_cache_ttl: cdk.Duration,
                 log_retention_days: int, service_name: str, metrics_namespace: str,
                 audience_claim: str = "aud", leeway: cdk.Duration = DEFAULT_LEEWAY,
                 jwks_timeout: cdk.Duration = DEFAULT_JWKS_TIMEOUT,
                 jwks_refetch_cooldown: cdk.Duration = DEFAULT_JWKS_REFETCH_COOLDOWN,
                 jwks_cache: cdk.Duration = DEFAULT_JWKS_CACHE) -> None:
        super().__init__(scope, id_)
        issuer = _checked_https(issuer, "issuer")
        if jwks_url is None:
            jwks_url = (f"{issuer}/.well-known/jwks.json" if cdk.Token.is_unresolved(issuer)
                        else f"{issuer.rstrip('/')}/.well-known/jwks.json")
        jwks_url = _checked_https(jwks_url, "jwks_url")
        try:
            mapping = parse_permissions(json.dumps([asdict(permission) for permission in permissions]))
        except ConfigurationError as error:
            raise ValueError(f"permissions: {error}") from None
        permissions_json = json.dumps([asdict(permission) for permission in mapping], separators=(",", ":"))
        if len(permissions_json) > MAX_PERMISSIONS_JSON_CHARS:
            raise ValueError(f"permissions take {len(permissions_json)} characters of JSON; Lambda's 4 KiB of "
                             f"environment variables leave room for {MAX_PERMISSIONS_JSON_CHARS}")
        fetch_seconds = _seconds(jwks_timeout, "jwks_timeout", minimum=0.1, maximum=MAX_JWKS_TIMEOUT)
        cooldown_seconds = _seconds(jwks_refetch_cooldown, "jwks_refetch_cooldown", minimum=1,
                                    maximum=cdk.Duration.hours(1))
        cache_seconds = _seconds(jwks_cache, "jwks_cache", minimum=1, maximum=cdk.Duration.days(1))
        leeway_seconds = _seconds(leeway, "leeway", minimum=0, maximum=cdk.Duration.minutes(5))
        environment = {
            "ISSUER": issuer,
            "AUDIENCE": _audiences(audience),
            "AUDIENCE_CLAIM": audience_claim,
            "JWKS_URL": jwks_url,
            "PERMISSIONS": permissions_json,
            "JWKS_TIMEOUT_SECONDS": f"{fetch_seconds:g}",
            "JWKS_REFETCH_COOLDOWN_SECONDS": f"{cooldown_seconds:g}",
            "JWKS_CACHE_SECONDS": f"{cache_seconds:g}",
            "LEEWAY_SECONDS": f"{leeway_seconds:g}",
        }
        cache_ttl = _seconds(results_cache_ttl, "results_cache_ttl", minimum=0, maximum=MAX_RESULTS_CACHE_TTL)

        self.function = PythonFunction(
            self, "Function", entry=FUNCTION_DIR, service_name=service_name, metrics_namespace=metrics_namespace,
            log_retention_days=log_retention_days,
            description="Verifies JWT access tokens of the identity provider and maps their scopes to routes",
            environment=environment,
            # Room for a cold start and one key set fetch, which the function bounds itself.
            timeout=cdk.Duration.seconds(math.ceil(fetch_seconds) + 4))
        self.authorizer = apigw.TokenAuthorizer(
            self, "Authorizer", handler=self.function.function,
            identity_source=apigw.IdentitySource.header("Authorization"),
            validation_regex=TOKEN_VALIDATION_REGEX,
            results_cache_ttl=cdk.Duration.seconds(cache_ttl))

    @staticmethod
    def acknowledge_method(method: IConstruct) -> None:
        """A method guarded by this authorizer needs no Cognito user pools authorizer."""
        acknowledge(method, "AwsSolutions-COG4",
                    "The method is guarded by the Lambda TOKEN authorizer, which verifies the identity provider's "
                    "JWT access tokens (Cognito's or a third party's) and maps their scopes to routes, which a "
                    "Cognito user pools authorizer cannot do for other providers.")

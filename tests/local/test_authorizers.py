"""API Gateway's token checks, emulated: the REST Cognito authorizer and the HTTP API JWT
authorizer against tokens of a local issuer (keys fetched from its JWKS over HTTP)."""
from __future__ import annotations

import re
import time
from typing import Any, Iterator

import pytest

from local.apigw.authorizers import AuthorizationFailed, CognitoUserPools, JwtAuthorizer
from local.httpserver import LocalServer
from local.oidc.client import CodeFlow
from local.oidc.issuer import Client, Issuer, Pool, seeded_users
from local.oidc.server import issuer_handler

POOL = "us-east-1_Authz"
POOL_ARN = f"arn:aws:cognito-idp:us-east-1:123456789012:userpool/{POOL}"
CALLBACK = "http://localhost:8081/callback"
JAVA_DATE = re.compile(r"^[A-Z][a-z]{2} [A-Z][a-z]{2} \d{2} \d{2}:\d{2}:\d{2} UTC \d{4}$")


class Clock:
    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


@pytest.fixture(scope="module")
def issuer_clock() -> Clock:
    return Clock()


@pytest.fixture(scope="module")
def authority(issuer_clock: Clock) -> Iterator[str]:
    served: dict[str, Any] = {}
    server = LocalServer("test-authz", 0, lambda request: served["handle"](request)).start()
    issuer_url = f"http://127.0.0.1:{server.port}/{POOL}"
    client = Client("web", frozenset({CALLBACK}), frozenset(), frozenset({"openid", "email"}))
    served["handle"] = issuer_handler(Issuer({POOL: Pool(POOL, issuer_url, {"web": client}, seeded_users())},
                                             token_lifetime_seconds=300, clock=issuer_clock))
    yield issuer_url
    server.stop()


@pytest.fixture(scope="module")
def tokens(authority: str) -> dict[str, Any]:
    return CodeFlow(authority, "web", CALLBACK).tokens()


@pytest.fixture
def expired_tokens(authority: str, issuer_clock: Clock) -> dict[str, Any]:
    issuer_clock.offset = -3600  # issued an hour ago, valid five minutes
    try:
        return CodeFlow(authority, "web", CALLBACK).tokens()
    finally:
        issuer_clock.offset = 0.0


def rest(authority: str, token: str, scopes: list[str] | None = None) -> dict[str, str]:
    authorizer = {"ProviderARNs": [POOL_ARN], "IdentitySource": "method.request.header.Authorization"}
    return CognitoUserPools({POOL_ARN: authority})(authorizer, scopes, {"Authorization": token}, None)


def http_api(authority: str, token: str, *, audience: str = "web", scopes: list[str] | None = None):
    authorizer = JwtAuthorizer({"JwtConfiguration": {"Issuer": authority, "Audience": [audience]},
                                "IdentitySource": ["$request.header.Authorization"]})
    return authorizer({"authorization": f"Bearer {token}"}, scopes)


def test_the_rest_authorizer_passes_the_claims_as_strings_with_java_dates(authority: str, tokens: dict):
    claims = rest(authority, tokens["id_token"])
    assert claims["email"] == "alice@example.com" and claims["email_verified"] == "true"
    assert JAVA_DATE.match(claims["exp"]) and JAVA_DATE.match(claims["iat"])
    assert claims["auth_time"].isdigit()


def test_the_rest_authorizer_takes_the_token_after_bearer_too(authority: str, tokens: dict):
    assert rest(authority, f"Bearer {tokens['id_token']}")["email"] == "alice@example.com"


def test_the_rest_authorizer_says_an_expired_token_has_expired(authority: str, expired_tokens: dict):
    with pytest.raises(AuthorizationFailed, match="the token has expired") as refused:
        rest(authority, expired_tokens["id_token"])
    assert refused.value.status == 401 and refused.value.message == "The incoming token has expired"


def test_the_rest_authorizer_refuses_a_token_of_a_pool_it_does_not_name(tokens: dict):
    authorizer = CognitoUserPools({POOL_ARN: "http://127.0.0.1:9/us-east-1_Other"})
    with pytest.raises(AuthorizationFailed, match="not issued by this API's user pools"):
        authorizer({"ProviderARNs": [POOL_ARN]}, None, {"Authorization": tokens["id_token"]}, None)


def test_the_rest_authorizer_wants_an_access_token_with_a_scope_when_the_method_has_scopes(authority: str,
                                                                                            tokens: dict):
    with pytest.raises(AuthorizationFailed, match="access token with one of the scopes"):
        rest(authority, tokens["id_token"], scopes=["links/write"])


def test_the_jwt_authorizer_passes_the_claims_and_no_scopes_for_an_id_token(authority: str, tokens: dict):
    claims, scopes = http_api(authority, tokens["id_token"])
    assert claims["sub"] and claims["email_verified"] == "true" and claims["exp"].isdigit()
    assert scopes is None


def test_the_jwt_authorizer_refuses_another_audience_saying_so(authority: str, tokens: dict):
    with pytest.raises(AuthorizationFailed, match="does not have a valid audience") as refused:
        http_api(authority, tokens["id_token"], audience="some-other-client")
    assert 'error="invalid_token"' in refused.value.headers["www-authenticate"]


def test_the_jwt_authorizer_refuses_an_expired_token(authority: str, expired_tokens: dict):
    with pytest.raises(AuthorizationFailed, match="the token has expired"):
        http_api(authority, expired_tokens["id_token"])


def test_the_jwt_authorizer_matches_an_access_token_by_its_client_id(authority: str, tokens: dict):
    claims, scopes = http_api(authority, tokens["access_token"])
    assert claims["client_id"] == "web" and scopes == ["openid", "email"]


def test_the_jwt_authorizer_forbids_a_token_without_the_routes_scope(authority: str, tokens: dict):
    with pytest.raises(AuthorizationFailed, match="none of the route's scopes") as refused:
        http_api(authority, tokens["access_token"], scopes=["questions/write"])
    assert refused.value.status == 403 and "insufficient_scope" in refused.value.headers["www-authenticate"]

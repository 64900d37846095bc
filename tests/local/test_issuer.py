"""The local OpenID Connect issuer over HTTP: the code flow with PKCE, and every refusal."""
from __future__ import annotations

import time
import urllib.parse
from contextlib import contextmanager
from typing import Any, Iterator

import jwt
import pytest

from local.httpserver import LocalServer
from local.oidc.client import CodeFlow, http
from local.oidc.issuer import CODE_LIFETIME_SECONDS, Client, Issuer, Pool, seeded_users
from local.oidc.server import issuer_handler

POOL = "us-east-1_Test"
CALLBACK = "http://localhost:8081/callback"
OTHER_CALLBACK = "http://localhost:8082/callback"
SIGNED_OUT = "http://localhost:8081/"


class Clock:
    """Real time, plus however far a test moved it (tokens are verified against real time)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


@pytest.fixture(scope="module")
def clock() -> Clock:
    return Clock()


@contextmanager
def issuer_served(clock: Clock, **options: Any) -> Iterator[str]:
    """An issuer with one pool (clients "web" and "other") on a free loopback port; its URL."""
    served: dict[str, Any] = {}
    server = LocalServer("test-oidc", 0, lambda request: served["handle"](request)).start()
    base = f"http://127.0.0.1:{server.port}"
    clients = {
        "web": Client("web", frozenset({CALLBACK}), frozenset({SIGNED_OUT}), frozenset({"openid", "email"})),
        "other": Client("other", frozenset({OTHER_CALLBACK}), frozenset(), frozenset({"openid", "email"})),
    }
    issuer = Issuer({POOL: Pool(POOL, f"{base}/{POOL}", clients, seeded_users())}, token_lifetime_seconds=600,
                    clock=clock, **options)
    served["handle"] = issuer_handler(issuer)
    try:
        yield f"{base}/{POOL}"
    finally:
        server.stop()


@pytest.fixture(scope="module")
def authority(clock: Clock) -> Iterator[str]:
    with issuer_served(clock) as url:
        yield url


@pytest.fixture
def flow(authority: str) -> CodeFlow:
    return CodeFlow(authority, "web", CALLBACK)


def verified(token: str, authority: str, **options: Any) -> dict[str, Any]:
    """Verify a token as a relying party does: the key from the JWKS the discovery names."""
    jwks_uri = http("GET", f"{authority}/.well-known/openid-configuration").json()["jwks_uri"]
    key = jwt.PyJWKClient(jwks_uri).get_signing_key_from_jwt(token).key
    return jwt.decode(token, key, algorithms=["RS256"], issuer=authority, **options)


# -- the flow ------------------------------------------------------------------------------

def test_discovery_names_the_code_flow_with_s256_and_the_endpoints_of_this_pool(flow: CodeFlow, authority: str):
    metadata = flow.metadata()
    assert metadata["issuer"] == authority
    assert metadata["response_types_supported"] == ["code"]
    assert metadata["code_challenge_methods_supported"] == ["S256"]
    assert metadata["token_endpoint"] == f"{authority}/oauth2/token"
    assert metadata["end_session_endpoint"] == f"{authority}/logout"


def test_the_sign_in_page_lists_the_seeded_users(flow: CodeFlow):
    page = flow.authorize()
    assert page.status == 200
    assert "alice@example.com" in page.text and "bob@example.com" in page.text
    assert page.header("X-Frame-Options") == "DENY"


def test_signing_in_redirects_to_the_callback_with_a_code_and_the_state(flow: CodeFlow):
    answer = flow.submit(flow.authorize(), "alice@example.com", "local-password")
    assert answer.status == 303
    assert answer.header("location").startswith(CALLBACK + "?")
    assert answer.location_query()["state"] == flow.state and answer.location_query()["code"]


def test_the_code_and_verifier_give_an_id_token_with_the_claims_the_apis_read(flow: CodeFlow, authority: str):
    tokens = flow.tokens("bob@example.com")
    claims = verified(tokens["id_token"], authority, audience="web")
    assert claims["token_use"] == "id" and claims["email"] == "bob@example.com" and claims["email_verified"] is True
    assert claims["cognito:username"] == claims["sub"] and claims["nonce"] == flow.nonce
    assert tokens["token_type"] == "Bearer" and tokens["expires_in"] == 600


def test_the_access_token_names_the_client_and_the_granted_scope(flow: CodeFlow, authority: str):
    claims = verified(flow.tokens()["access_token"], authority)
    assert claims["token_use"] == "access" and claims["client_id"] == "web"
    assert claims["scope"] == "openid email" and "aud" not in claims


def test_a_user_has_the_same_sub_in_every_sign_in(authority: str):
    first = verified(CodeFlow(authority, "web", CALLBACK).tokens()["id_token"], authority, audience="web")
    second = verified(CodeFlow(authority, "web", CALLBACK).tokens()["id_token"], authority, audience="web")
    assert first["sub"] == second["sub"]


def test_a_token_signed_by_another_key_does_not_verify_against_the_jwks(flow: CodeFlow, authority: str):
    from cryptography.hazmat.primitives.asymmetric import rsa

    forged = jwt.encode(jwt.decode(flow.tokens()["id_token"], options={"verify_signature": False}),
                        rsa.generate_private_key(public_exponent=65537, key_size=2048), algorithm="RS256",
                        headers={"kid": jwt.get_unverified_header(flow.tokens()["id_token"])["kid"]})
    with pytest.raises(jwt.InvalidSignatureError, match="Signature verification failed"):
        verified(forged, authority, audience="web")


def test_the_token_endpoint_answers_cors_to_the_clients_origin_only(flow: CodeFlow, authority: str):
    allowed = flow.exchange(flow.code())
    stranger = http("POST", f"{authority}/oauth2/token", form={"grant_type": "authorization_code", "code": "x",
                                                               "client_id": "web"},
                    headers={"Origin": "https://evil.example.com"})
    assert allowed.header("Access-Control-Allow-Origin") == "http://localhost:8081"
    assert stranger.header("Access-Control-Allow-Origin") is None


def test_user_info_answers_the_access_tokens_user(flow: CodeFlow, authority: str):
    answer = http("GET", f"{authority}/oauth2/userInfo",
                  headers={"Authorization": f"Bearer {flow.tokens()['access_token']}"})
    assert answer.status == 200 and answer.json()["email"] == "alice@example.com"


def test_user_info_refuses_an_id_token(flow: CodeFlow, authority: str):
    id_token = flow.tokens()["id_token"]
    answer = http("GET", f"{authority}/oauth2/userInfo", headers={"Authorization": f"Bearer {id_token}"})
    assert answer.status == 401 and answer.json()["error"] == "invalid_token"


def test_sign_out_redirects_to_a_registered_sign_out_url(authority: str):
    query = urllib.parse.urlencode({"client_id": "web", "logout_uri": SIGNED_OUT})
    answer = http("GET", f"{authority}/logout?{query}")
    assert answer.status == 302 and answer.header("location") == SIGNED_OUT


def test_sign_out_to_an_unregistered_url_is_refused_without_redirect(authority: str):
    answer = http("GET", f"{authority}/logout?" + urllib.parse.urlencode(
        {"client_id": "web", "post_logout_redirect_uri": "https://evil.example.com/"}))
    assert answer.status == 400 and answer.header("location") is None
    assert "is not a sign-out URL" in answer.text


# -- authorization refusals --------------------------------------------------------------

def test_an_unknown_client_id_is_shown_an_error_never_redirected(flow: CodeFlow):
    answer = flow.authorize(client_id="nobody")
    assert answer.status == 400 and answer.header("location") is None
    assert "no app client" in answer.text


def test_an_unregistered_redirect_uri_is_shown_an_error_never_redirected(flow: CodeFlow):
    answer = flow.authorize(redirect_uri="https://evil.example.com/callback")
    assert answer.status == 400 and answer.header("location") is None
    assert "is not a callback URL" in answer.text


@pytest.mark.parametrize(("overrides", "error", "description"), [
    ({"code_challenge": None}, "invalid_request", "code_challenge is required"),
    ({"code_challenge_method": "plain"}, "invalid_request", "code_challenge_method must be S256"),
    ({"code_challenge": "short"}, "invalid_request", "43 base64url characters"),
    ({"response_type": "token"}, "unsupported_response_type", "only response_type=code"),
    ({"scope": "openid phone"}, "invalid_scope", "'phone' is not allowed"),
    ({"state": None}, "invalid_request", "state is required"),
])
def test_a_bad_authorization_request_goes_back_to_the_client_with_the_error(flow: CodeFlow, overrides, error,
                                                                             description):
    answer = flow.authorize(**overrides)
    assert answer.status == 302 and answer.header("location").startswith(CALLBACK + "?")
    query = answer.location_query()
    assert query["error"] == error and description in query["error_description"]


def test_a_parameter_given_twice_is_refused(flow: CodeFlow):
    query = urllib.parse.urlencode(flow.authorize_params()) + "&client_id=web"
    answer = flow.authorize(query=query)
    assert answer.status == 400 and "more than once" in answer.text


def test_a_wrong_password_shows_the_page_again_without_a_code(flow: CodeFlow):
    page = flow.authorize()
    answer = flow.submit(page, "alice@example.com", "wrong-password")
    assert answer.status == 401 and "Incorrect email or password" in answer.text
    assert answer.header("location") is None


def test_the_sign_in_request_survives_a_wrong_password(flow: CodeFlow):
    page = flow.authorize()
    flow.submit(page, "alice@example.com", "wrong-password")
    assert flow.submit(page, "alice@example.com", "local-password").status == 303


# -- token refusals ----------------------------------------------------------------------

def test_a_wrong_code_verifier_is_refused(flow: CodeFlow):
    answer = flow.exchange(flow.code(), code_verifier="x" * 43)
    assert answer.status == 400
    assert answer.json() == {"error": "invalid_grant", "error_description":
                             "code_verifier does not match the code_challenge"}


def test_a_missing_code_verifier_is_refused(flow: CodeFlow):
    answer = flow.exchange(flow.code(), code_verifier=None)
    assert answer.status == 400 and answer.json()["error"] == "invalid_grant"


def test_a_code_is_refused_the_second_time(flow: CodeFlow):
    code = flow.code()
    assert flow.exchange(code).status == 200
    again = flow.exchange(code)
    assert again.status == 400
    assert again.json() == {"error": "invalid_grant", "error_description": "the authorization code was already used"}


def test_a_failed_exchange_consumes_the_code(flow: CodeFlow):
    code = flow.code()
    flow.exchange(code, code_verifier="y" * 43)
    assert flow.exchange(code).json()["error_description"] == "the authorization code was already used"


def test_a_redirect_uri_other_than_the_authorization_requests_is_refused(flow: CodeFlow):
    answer = flow.exchange(flow.code(), redirect_uri=OTHER_CALLBACK)
    assert answer.json()["error"] == "invalid_grant" and "redirect_uri" in answer.json()["error_description"]


def test_a_code_of_another_client_is_refused(flow: CodeFlow):
    answer = flow.exchange(flow.code(), client_id="other")
    assert answer.json()["error"] == "invalid_grant" and "another client" in answer.json()["error_description"]


def test_an_unknown_client_at_the_token_endpoint_is_invalid_client(flow: CodeFlow):
    answer = flow.exchange(flow.code(), client_id="nobody")
    assert answer.status == 401 and answer.json()["error"] == "invalid_client"


def test_a_grant_other_than_code_and_refresh_token_is_unsupported(flow: CodeFlow):
    answer = flow.exchange("unused", grant_type="password")
    assert answer.status == 400 and answer.json()["error"] == "unsupported_grant_type"


def test_an_expired_code_is_refused(flow: CodeFlow, clock: Clock):
    code = flow.code()
    clock.offset = CODE_LIFETIME_SECONDS + 1
    try:
        answer = flow.exchange(code)
    finally:
        clock.offset = 0.0
    assert answer.json() == {"error": "invalid_grant", "error_description":
                             "the authorization code is invalid or expired"}


def test_a_token_request_that_is_not_a_form_is_refused(authority: str):
    answer = http("POST", f"{authority}/oauth2/token", json_body={"grant_type": "authorization_code"})
    assert answer.status == 400 and answer.json()["error"] == "invalid_request"
    assert "x-www-form-urlencoded" in answer.json()["error_description"]

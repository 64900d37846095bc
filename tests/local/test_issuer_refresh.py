"""The local issuer's refresh tokens over HTTP, as Cognito's token and revocation endpoints
answer them: renewal with the sign-in's claims and scopes, no rotation, every refusal."""
from __future__ import annotations

import urllib.parse
from typing import Any, Iterator

import jwt
import pytest

from local.oidc.client import Answer, CodeFlow, http
from local.settings import Settings, SettingsError
from tests.local.test_issuer import CALLBACK, SIGNED_OUT, Clock, issuer_served, verified

THIRTY_DAYS = 30 * 24 * 3600


@pytest.fixture(scope="module")
def clock() -> Clock:
    return Clock()


@pytest.fixture(scope="module")
def authority(clock: Clock) -> Iterator[str]:
    with issuer_served(clock) as url:  # the default refresh token lifetime
        yield url


@pytest.fixture
def later(clock: Clock) -> Iterator[Clock]:
    """The issuer's clock, for a test to move forward; back to now afterwards."""
    yield clock
    clock.offset = 0.0


def signed_in(authority: str, *, scope: str = "openid email", email: str = "alice@example.com") -> dict[str, Any]:
    return CodeFlow(authority, "web", CALLBACK, scope=scope).tokens(email)


def refresh(authority: str, refresh_token: str | None, client_id: str = "web", **extra: str) -> Answer:
    form = {"grant_type": "refresh_token", "client_id": client_id, **extra}
    if refresh_token is not None:
        form["refresh_token"] = refresh_token
    return http("POST", f"{authority}/oauth2/token", form=form, headers={"Origin": "http://localhost:8081"})


def revoke(authority: str, token: str | None, client_id: str | None = "web", **headers: str) -> Answer:
    form = {name: value for name, value in (("token", token), ("client_id", client_id)) if value is not None}
    return http("POST", f"{authority}/oauth2/revoke", form=form, headers={"Origin": "http://localhost:8081", **headers})


def unverified(token: str) -> dict[str, Any]:
    return jwt.decode(token, options={"verify_signature": False})


def error_of(answer: Answer) -> tuple[int, str, str]:
    body = answer.json()
    return answer.status, body["error"], body["error_description"]


# -- issuing and renewing ------------------------------------------------------------------

def test_discovery_advertises_the_refresh_token_grant_and_the_revocation_endpoint(authority: str):
    metadata = http("GET", f"{authority}/.well-known/openid-configuration").json()
    assert metadata["grant_types_supported"] == ["authorization_code", "refresh_token"]
    assert metadata["revocation_endpoint"] == f"{authority}/oauth2/revoke"


def test_a_code_grant_answer_holds_an_opaque_unguessable_refresh_token(authority: str):
    token = signed_in(authority)["refresh_token"]
    assert len(token) >= 64 and set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    with pytest.raises(jwt.DecodeError, match="Not enough segments"):
        unverified(token)


def test_every_sign_in_gets_its_own_refresh_token(authority: str):
    assert signed_in(authority)["refresh_token"] != signed_in(authority)["refresh_token"]


def test_the_refresh_token_renews_the_id_and_access_tokens_without_a_new_refresh_token(authority: str):
    first = signed_in(authority)
    answer = refresh(authority, first["refresh_token"])
    assert answer.status == 200 and answer.header("Cache-Control") == "no-store"
    renewed = answer.json()
    assert set(renewed) == {"id_token", "access_token", "token_type", "expires_in"}
    assert renewed["token_type"] == "Bearer" and renewed["expires_in"] == 600
    assert renewed["id_token"] != first["id_token"] and renewed["access_token"] != first["access_token"]
    verified(renewed["id_token"], authority, audience="web")
    verified(renewed["access_token"], authority)


def test_the_renewed_id_token_keeps_the_users_claims_and_the_sign_ins_time(authority: str):
    first = signed_in(authority, email="bob@example.com")
    original = verified(first["id_token"], authority, audience="web")
    claims = verified(refresh(authority, first["refresh_token"]).json()["id_token"], authority, audience="web")
    kept = ("sub", "email", "email_verified", "cognito:username", "aud", "iss", "token_use", "auth_time", "origin_jti")
    assert {name: claims[name] for name in kept} == {name: original[name] for name in kept}
    assert claims["email"] == "bob@example.com" and claims["jti"] != original["jti"]
    assert "nonce" not in claims  # OpenID Connect Core 12.2


def test_the_renewed_access_token_keeps_the_sign_ins_scopes_whatever_the_refresh_asks(authority: str):
    first = signed_in(authority, scope="openid")
    renewed = refresh(authority, first["refresh_token"], scope="openid email").json()
    assert verified(renewed["access_token"], authority)["scope"] == "openid"
    assert "email" not in verified(renewed["id_token"], authority, audience="web")


def test_a_refresh_token_renews_again_and_again(authority: str):
    token = signed_in(authority)["refresh_token"]
    assert [refresh(authority, token).status for _ in range(3)] == [200, 200, 200]


def test_the_token_endpoint_answers_a_refresh_with_cors_to_the_clients_origin(authority: str):
    answer = refresh(authority, signed_in(authority)["refresh_token"])
    assert answer.header("Access-Control-Allow-Origin") == "http://localhost:8081"


# -- refusals ------------------------------------------------------------------------------

def test_a_refresh_token_of_another_client_is_invalid_grant(authority: str):
    answer = refresh(authority, signed_in(authority)["refresh_token"], client_id="other")
    assert error_of(answer) == (400, "invalid_grant", "the refresh token was issued to another client")


def test_a_refresh_by_an_unknown_client_is_invalid_client(authority: str):
    answer = refresh(authority, signed_in(authority)["refresh_token"], client_id="nobody")
    assert answer.status == 401 and answer.json()["error"] == "invalid_client"


@pytest.mark.parametrize("garbage", ["x", "not-a-refresh-token-" * 20, "é" * 100, "a" * 4096, "%00\u202e"])
def test_a_refresh_token_the_issuer_never_gave_is_invalid_grant(authority: str, garbage: str):
    answer = refresh(authority, garbage)
    assert error_of(answer) == (400, "invalid_grant", "the refresh token is invalid or has expired")


def test_an_id_token_is_not_a_refresh_token(authority: str):
    answer = refresh(authority, signed_in(authority)["id_token"])
    assert answer.status == 400 and answer.json()["error"] == "invalid_grant"


def test_a_refresh_without_the_refresh_token_is_invalid_request(authority: str):
    answer = refresh(authority, None)
    assert error_of(answer) == (400, "invalid_request", "refresh_token is required")


def test_a_refresh_token_given_twice_is_invalid_request(authority: str):
    token = signed_in(authority)["refresh_token"]
    body = urllib.parse.urlencode({"grant_type": "refresh_token", "client_id": "web", "refresh_token": token})
    answer = http("POST", f"{authority}/oauth2/token", body=f"{body}&refresh_token={token}",
                  headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert answer.status == 400 and "more than once" in answer.json()["error_description"]


def test_a_refresh_token_expires_thirty_days_after_the_sign_in(authority: str, later: Clock):
    token = signed_in(authority)["refresh_token"]
    later.offset = THIRTY_DAYS - 60
    assert refresh(authority, token).status == 200
    later.offset = THIRTY_DAYS + 1
    assert refresh(authority, token).json()["error"] == "invalid_grant"


def test_renewing_does_not_extend_the_refresh_tokens_life(authority: str, later: Clock):
    token = signed_in(authority)["refresh_token"]
    for days in (10, 20, 29):
        later.offset = days * 24 * 3600
        assert refresh(authority, token).status == 200
    later.offset = THIRTY_DAYS + 1
    assert error_of(refresh(authority, token))[1] == "invalid_grant"


def test_a_short_refresh_token_lifetime_ends_the_session_sooner(clock: Clock, later: Clock):
    with issuer_served(clock, refresh_token_lifetime_seconds=60) as short:
        token = signed_in(short)["refresh_token"]
        later.offset = 61
        answer = refresh(short, token)
    assert error_of(answer) == (400, "invalid_grant", "the refresh token has expired")


# -- revocation ----------------------------------------------------------------------------

def test_revoking_answers_200_with_an_empty_body_and_the_refresh_token_no_longer_renews(authority: str):
    token = signed_in(authority)["refresh_token"]
    answer = revoke(authority, token)
    assert (answer.status, answer.body) == (200, b"")
    assert answer.header("Access-Control-Allow-Origin") == "http://localhost:8081"
    assert error_of(refresh(authority, token)) == (400, "invalid_grant", "the refresh token has been revoked")


def test_revoking_one_sign_in_leaves_the_others_renewable(authority: str):
    revoked, kept = signed_in(authority)["refresh_token"], signed_in(authority)["refresh_token"]
    revoke(authority, revoked)
    assert refresh(authority, kept).status == 200


def test_user_info_refuses_the_access_tokens_of_a_revoked_refresh_token(authority: str):
    first = signed_in(authority)
    renewed = refresh(authority, first["refresh_token"]).json()
    revoke(authority, first["refresh_token"])
    for access_token in (first["access_token"], renewed["access_token"]):
        answer = http("GET", f"{authority}/oauth2/userInfo", headers={"Authorization": f"Bearer {access_token}"})
        assert answer.status == 401 and answer.json()["error_description"] == "Access Token has been revoked"


@pytest.mark.parametrize("token", ["never-issued", "é" * 50])
def test_revoking_a_token_the_issuer_never_gave_answers_200_as_cognito(authority: str, token: str):
    assert revoke(authority, token).status == 200


def test_revoking_twice_answers_200(authority: str):
    token = signed_in(authority)["refresh_token"]
    assert [revoke(authority, token).status for _ in range(2)] == [200, 200]


@pytest.mark.parametrize("kind", ["id_token", "access_token"])
def test_an_id_or_access_token_cannot_be_revoked(authority: str, kind: str):
    answer = revoke(authority, signed_in(authority)[kind])
    assert error_of(answer) == (400, "unsupported_token_type", "only refresh tokens can be revoked")


def test_revoking_another_clients_refresh_token_is_refused_and_leaves_it_renewable(authority: str):
    token = signed_in(authority)["refresh_token"]
    assert error_of(revoke(authority, token, client_id="other"))[:2] == (400, "invalid_grant")
    assert refresh(authority, token).status == 200


def test_revoking_without_a_token_is_invalid_request(authority: str):
    assert error_of(revoke(authority, None))[:2] == (400, "invalid_request")


@pytest.mark.parametrize("client_id", [None, "nobody"])
def test_revoking_without_a_known_client_id_is_invalid_client(authority: str, client_id: str | None):
    answer = revoke(authority, signed_in(authority)["refresh_token"], client_id=client_id)
    assert answer.status == 401 and answer.json()["error"] == "invalid_client"


def test_revoking_with_client_credentials_is_invalid_client_the_clients_are_public(authority: str):
    answer = revoke(authority, signed_in(authority)["refresh_token"], Authorization="Basic d2ViOnNlY3JldA==")
    assert answer.status == 401 and answer.json()["error"] == "invalid_client"


def test_signing_out_revokes_no_refresh_token_as_cognitos_logout_endpoint(authority: str):
    # Cognito's /logout clears its hosted-UI cookie only; the revocation endpoint (or
    # GlobalSignOut) revokes refresh tokens. A client that wants both calls both.
    tokens = signed_in(authority)
    query = urllib.parse.urlencode({"client_id": "web", "logout_uri": SIGNED_OUT, "id_token_hint": tokens["id_token"]})
    assert http("GET", f"{authority}/logout?{query}").status == 302
    assert refresh(authority, tokens["refresh_token"]).status == 200


# -- bodies that are not forms -------------------------------------------------------------

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.mark.parametrize("endpoint", ["oauth2/token", "oauth2/revoke"])
@pytest.mark.parametrize(("body", "headers", "description"), [
    ("refresh_token=" + "a" * 1_000_000 + "&grant_type=refresh_token&client_id=web", FORM, "larger than 16384 bytes"),
    ("&".join(f"p{n}=1" for n in range(20_000)), FORM, "larger than 16384 bytes"),
    (b"grant_type=refresh_token&refresh_token=\xff\xfe&client_id=web", FORM, "UTF-8"),
    ('{"grant_type": "refresh_token", "client_id": "web"}', {"Content-Type": "application/json"},
     "x-www-form-urlencoded"),
    ("grant_type=refresh_token&client_id=web&refresh_token=" + "b" * 5000, FORM, "longer than 4096 characters"),
], ids=["megabyte-parameter", "twenty-thousand-parameters", "not-utf-8", "json", "parameter-too-long"])
def test_a_huge_or_malformed_form_is_invalid_request(authority: str, endpoint: str, body: str | bytes,
                                                     headers: dict[str, str], description: str):
    answer = http("POST", f"{authority}/{endpoint}", body=body, headers={**headers, "Origin": "http://localhost:8081"})
    status, error, message = error_of(answer)
    assert (status, error) == (400, "invalid_request") and description in message
    assert answer.header("Access-Control-Allow-Origin") == "http://localhost:8081"


# -- the setting ---------------------------------------------------------------------------

def test_the_refresh_token_lifetime_defaults_to_cognitos_thirty_days():
    assert Settings.from_environ({}).refresh_token_lifetime_seconds == THIRTY_DAYS


def test_the_refresh_token_lifetime_can_be_made_short_for_tests():
    settings = Settings.from_environ({"LOCAL_REFRESH_TOKEN_LIFETIME_SECONDS": "120"})
    assert settings.refresh_token_lifetime_seconds == 120
    assert Settings.from_json(settings.to_json()).refresh_token_lifetime_seconds == 120


@pytest.mark.parametrize("value", ["0", "-5", "ten", "1.5", str(10 * 365 * 24 * 3600 + 1)])
def test_a_bad_refresh_token_lifetime_names_the_variable(value: str):
    with pytest.raises(SettingsError, match=r"LOCAL_REFRESH_TOKEN_LIFETIME_SECONDS must be 1 to 315360000"):
        Settings.from_environ({"LOCAL_REFRESH_TOKEN_LIFETIME_SECONDS": value})

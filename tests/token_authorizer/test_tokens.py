"""Which tokens the authorizer accepts: signatures, algorithms, keys and claims."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

from cryptography.hazmat.primitives import serialization

from lambda_src.token_authorizer.logic import DenyReason

from .conftest import CLIENT_ID, UNSET
from .helpers import assert_refused


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _forged(header: dict, payload: dict, signature: bytes) -> str:
    return ".".join((_b64(json.dumps(header).encode()), _b64(json.dumps(payload).encode()), _b64(signature)))


def _claims(authorizer) -> dict:
    now = int(time.time())
    return {"iss": authorizer.provider.server.issuer, "aud": "https://api.example.com", "sub": "mallory",
            "exp": now + 300, "scope": "api/read api/write api/admin"}


# --- signatures and algorithms ----------------------------------------------------------

def test_a_valid_rs256_token_is_allowed(authorizer):
    decision = authorizer.bearer(authorizer.token())

    assert decision.reason is None
    assert decision.response["principalId"] == "user-1"


def test_a_valid_es256_token_is_allowed(authorizer):
    decision = authorizer.bearer(authorizer.token(authorizer.provider.ec))

    assert decision.reason is None


def test_alg_none_without_a_signature_fails_the_header_pattern(authorizer):
    token = jwt_none = _forged({"alg": "none", "kid": "rsa-1"}, _claims(authorizer), b"")
    assert jwt_none.endswith(".")

    assert_refused(authorizer.bearer(token), DenyReason.MALFORMED)


def test_alg_none_with_a_signature_part_is_refused_for_its_algorithm(authorizer):
    token = _forged({"alg": "none", "kid": "rsa-1"}, _claims(authorizer), b"anything")

    assert_refused(authorizer.bearer(token), DenyReason.ALGORITHM)


def test_hs256_signed_with_the_providers_public_key_is_refused(authorizer):
    public_pem = authorizer.provider.rsa.private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    header, payload = {"alg": "HS256", "typ": "JWT", "kid": "rsa-1"}, _claims(authorizer)
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(payload).encode())}"
    signature = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()

    assert_refused(authorizer.bearer(f"{signing_input}.{_b64(signature)}"), DenyReason.ALGORITHM)


def test_an_rs256_token_naming_the_ec_key_is_refused_before_verification(authorizer):
    token = authorizer.token(authorizer.provider.rsa, kid=authorizer.provider.ec.kid)

    assert_refused(authorizer.bearer(token), DenyReason.ALGORITHM)


def test_an_algorithm_outside_the_allowlist_is_refused(authorizer):
    import jwt

    token = jwt.encode(_claims(authorizer), authorizer.provider.rsa.private_key, algorithm="RS512",
                       headers={"kid": "rsa-1"})

    assert_refused(authorizer.bearer(token), DenyReason.ALGORITHM)


def test_a_token_signed_by_another_key_under_a_published_kid_is_refused(authorizer):
    token = authorizer.token(authorizer.provider.unpublished, kid=authorizer.provider.rsa.kid)

    assert_refused(authorizer.bearer(token), DenyReason.SIGNATURE)


def test_a_token_whose_claims_were_changed_after_signing_is_refused(authorizer):
    header, _, signature = authorizer.token(scope="api/read").split(".")
    escalated = _b64(json.dumps({**_claims(authorizer), "sub": "user-1"}).encode())

    assert_refused(authorizer.bearer(f"{header}.{escalated}.{signature}"), DenyReason.SIGNATURE)


def test_a_token_naming_an_unknown_kid_is_refused(authorizer):
    token = authorizer.token(authorizer.provider.unpublished)

    assert_refused(authorizer.bearer(token), DenyReason.UNKNOWN_KEY)


def test_a_token_without_a_kid_is_refused(authorizer):
    import jwt

    token = jwt.encode(_claims(authorizer), authorizer.provider.rsa.private_key, algorithm="RS256")

    assert_refused(authorizer.bearer(token), DenyReason.UNKNOWN_KEY)


# --- time --------------------------------------------------------------------------------

def test_an_expired_token_is_refused(authorizer):
    token = authorizer.token(exp=int(time.time()) - 120)  # beyond the 30 s leeway

    assert_refused(authorizer.bearer(token), DenyReason.EXPIRED)


def test_a_token_expired_within_the_clock_leeway_is_allowed(authorizer):
    token = authorizer.token(exp=int(time.time()) - 10)

    assert authorizer.bearer(token).reason is None


def test_a_token_not_yet_valid_is_refused(authorizer):
    token = authorizer.token(nbf=int(time.time()) + 600)

    assert_refused(authorizer.bearer(token), DenyReason.NOT_YET_VALID)


def test_a_token_issued_in_the_future_is_refused(authorizer):
    token = authorizer.token(iat=int(time.time()) + 600)

    assert_refused(authorizer.bearer(token), DenyReason.NOT_YET_VALID)


def test_a_token_without_an_expiry_is_refused(authorizer):
    assert_refused(authorizer.bearer(authorizer.token(exp=UNSET)), DenyReason.CLAIMS)


# --- issuer, audience, subject ----------------------------------------------------------

def test_a_token_of_another_issuer_is_refused(authorizer):
    token = authorizer.token(iss="https://attacker.example.com")

    assert_refused(authorizer.bearer(token), DenyReason.ISSUER)


def test_a_token_without_an_issuer_is_refused(authorizer):
    assert_refused(authorizer.bearer(authorizer.token(iss=UNSET)), DenyReason.CLAIMS)


def test_a_token_for_another_audience_is_refused(authorizer):
    token = authorizer.token(aud="https://other-api.example.com")

    assert_refused(authorizer.bearer(token), DenyReason.AUDIENCE)


def test_a_token_without_an_audience_is_refused(authorizer):
    assert_refused(authorizer.bearer(authorizer.token(aud=UNSET)), DenyReason.CLAIMS)


def test_a_token_listing_the_api_among_its_audiences_is_allowed(authorizer):
    token = authorizer.token(aud=["https://other-api.example.com", "https://api.example.com"])

    assert authorizer.bearer(token).reason is None


def test_a_cognito_access_token_is_checked_by_its_client_id(authorizer):
    authorizer.configure(AUDIENCE=f"people-client {CLIENT_ID}", AUDIENCE_CLAIM="client_id")

    assert authorizer.bearer(authorizer.token(aud=UNSET)).reason is None


def test_a_cognito_access_token_of_another_app_client_is_refused(authorizer):
    authorizer.configure(AUDIENCE="people-client", AUDIENCE_CLAIM="client_id")

    assert_refused(authorizer.bearer(authorizer.token(aud=UNSET)), DenyReason.AUDIENCE)


def test_a_cognito_id_token_is_refused_where_access_tokens_are_expected(authorizer):
    # An ID token names the app client in aud and carries no client_id.
    authorizer.configure(AUDIENCE=CLIENT_ID, AUDIENCE_CLAIM="client_id")

    assert_refused(authorizer.bearer(authorizer.token(aud=CLIENT_ID, client_id=UNSET)), DenyReason.CLAIMS)


def test_a_token_without_a_subject_is_refused(authorizer):
    assert_refused(authorizer.bearer(authorizer.token(sub=UNSET)), DenyReason.CLAIMS)


# --- the header ---------------------------------------------------------------------------

def test_a_header_without_the_bearer_scheme_is_refused(authorizer):
    assert_refused(authorizer.decide(authorizer.event(authorizer.token())), DenyReason.MALFORMED)


def test_a_basic_credential_is_refused(authorizer):
    assert_refused(authorizer.decide(authorizer.event("Basic dXNlcjpwYXNz")), DenyReason.MALFORMED)


def test_a_token_with_two_parts_is_refused(authorizer):
    header, payload, _ = authorizer.token().split(".")

    assert_refused(authorizer.bearer(f"{header}.{payload}"), DenyReason.MALFORMED)


def test_a_token_whose_header_is_not_base64_json_is_refused(authorizer):
    _, payload, signature = authorizer.token().split(".")

    assert_refused(authorizer.bearer(f"bm90LWpzb24.{payload}.{signature}"), DenyReason.MALFORMED)


def test_an_oversized_token_is_refused_before_it_is_decoded(authorizer):
    token = authorizer.token(padding="x" * 9000)

    assert_refused(authorizer.bearer(token), DenyReason.OVERSIZED)


def test_a_header_with_a_line_break_is_refused(authorizer):
    assert_refused(authorizer.bearer(authorizer.token() + "\n"), DenyReason.MALFORMED)


def test_a_deeply_nested_token_header_is_refused_as_malformed(authorizer):
    header = '{"alg":"RS256","kid":"rsa-1","x":' + "[" * 1500 + "]" * 1500 + "}"
    token = f"{_b64(header.encode())}.{_b64(b'{}')}.{_b64(b'signature')}"

    assert_refused(authorizer.bearer(token), DenyReason.MALFORMED)

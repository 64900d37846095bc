"""The URL shortener under ``python -m local``: its mapping templates behind the Cognito
authorizer, with real ID tokens of the local issuer."""
from __future__ import annotations

import uuid

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from local.oidc.client import http
from tests.support.local_suite import LocalRun, client_config, sign_in

ORIGIN_PORT = "shortener_web"


@pytest.fixture(scope="module")
def alice(local_suite: LocalRun) -> dict:
    return sign_in(local_suite, "shortener")


def api(run: LocalRun, path: str) -> str:
    return client_config(run, "shortener")["apiUrl"] + path.lstrip("/")


def create(run: LocalRun, token: str, link_id: str, url: str = "https://docs.aws.amazon.com/"):
    return http("POST", api(run, "/app"), json_body={"id": link_id, "url": url},
                headers={"Authorization": f"Bearer {token}", "Origin": run.url(ORIGIN_PORT)})


def test_a_link_created_with_an_id_token_is_stored_for_its_owner(local_suite: LocalRun, alice: dict):
    link_id = f"docs-{uuid.uuid4().hex[:8]}"
    answer = create(local_suite, alice["id_token"], link_id)
    assert answer.status == 201
    assert answer.json()["owner"] == "alice@example.com" and answer.json()["id"] == link_id


def test_the_owner_lists_the_link_created(local_suite: LocalRun, alice: dict):
    link_id = f"list-{uuid.uuid4().hex[:8]}"
    create(local_suite, alice["id_token"], link_id)
    listed = http("GET", api(local_suite, "/app"), headers={"Authorization": alice["id_token"]})
    assert listed.status == 200
    assert link_id in [item["id"] for item in listed.json()["items"]]


def test_the_short_link_redirects_to_the_stored_url(local_suite: LocalRun, alice: dict):
    link_id = f"go-{uuid.uuid4().hex[:8]}"
    create(local_suite, alice["id_token"], link_id, "https://example.org/target")
    answer = http("GET", client_config(local_suite, "shortener")["shortLinkBase"] + f"/{link_id}")
    assert answer.status == 301 and answer.header("Location") == "https://example.org/target"


def test_answers_to_the_web_client_carry_its_origin(local_suite: LocalRun, alice: dict):
    answer = create(local_suite, alice["id_token"], f"cors-{uuid.uuid4().hex[:8]}")
    assert answer.header("Access-Control-Allow-Origin") == local_suite.url(ORIGIN_PORT)


def test_a_request_without_a_token_is_refused(local_suite: LocalRun):
    answer = http("GET", api(local_suite, "/app"))
    assert answer.status == 401 and answer.json() == {"message": "Unauthorized"}


def test_a_forged_token_is_refused(local_suite: LocalRun, alice: dict):
    claims = jwt.decode(alice["id_token"], options={"verify_signature": False})
    header = jwt.get_unverified_header(alice["id_token"])
    forged = jwt.encode({**claims, "email": "bob@example.com"}, rsa.generate_private_key(public_exponent=65537,
                        key_size=2048), algorithm="RS256", headers={"kid": header["kid"]})
    answer = http("GET", api(local_suite, "/app"), headers={"Authorization": forged})
    assert answer.status == 401


def test_an_access_token_is_refused_where_the_api_reads_id_token_claims(local_suite: LocalRun, alice: dict):
    answer = http("GET", api(local_suite, "/app"), headers={"Authorization": alice["access_token"]})
    assert answer.status == 401


def test_a_token_of_another_systems_user_pool_is_refused(local_suite: LocalRun):
    other = sign_in(local_suite, "robot")
    answer = http("GET", api(local_suite, "/app"), headers={"Authorization": other["id_token"]})
    assert answer.status == 401

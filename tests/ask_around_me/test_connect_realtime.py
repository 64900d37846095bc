"""POST /realtime/session against moto's Cognito identity pools and IoT: the caller's own
identity gets the app's IoT policy, and only what the caller's token proves is ever used."""
from __future__ import annotations

import json

import pytest
from botocore.stub import Stubber

from lambda_src.ask_around_me.connect_realtime import handler as connect_realtime
from lambda_src.ask_around_me.connect_realtime.logic import bearer_token, session
from lambda_src.ask_around_me.shared.http import Unauthorized

from .conftest import IOT_ENDPOINT, http_event

LOGIN_PROVIDER = "cognito-idp.us-east-1.amazonaws.com/us-east-1_Example"
TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl"
POLICY = "AskAroundMeBrowsers"


@pytest.fixture
def realtime(world, monkeypatch):
    identities, iot = connect_realtime.identities, connect_realtime.iot
    pool = identities.create_identity_pool(IdentityPoolName="askaroundme", AllowUnauthenticatedIdentities=False)
    iot.create_policy(policyName=POLICY, policyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}))
    for name, value in {"IDENTITY_POOL_ID": pool["IdentityPoolId"], "LOGIN_PROVIDER": LOGIN_PROVIDER,
                        "IOT_POLICY_NAME": POLICY}.items():
        monkeypatch.setenv(name, value)
    return iot


def _call(lambda_context, headers):
    event = http_event("POST", "/realtime/session")
    event["headers"] = headers
    response = connect_realtime.handler(event, lambda_context)
    return response["statusCode"], json.loads(response["body"])


def test_a_session_attaches_the_policy_to_the_callers_identity_and_describes_the_topics(realtime, lambda_context):
    status, body = _call(lambda_context, {"authorization": f"Bearer {TOKEN}"})

    assert status == 200
    identity = body["identityId"]
    attached = realtime.list_attached_policies(target=identity)["policies"]
    assert [p["policyName"] for p in attached] == [POLICY]
    assert body["iotEndpoint"] == IOT_ENDPOINT
    assert body["clientIdPrefix"] == f"askaroundme-{identity}-"
    assert body["topics"]["user"] == f"askaroundme/users/{identity}"
    assert body["topics"]["system"] == "askaroundme/system"


def test_the_identity_is_looked_up_under_the_login_provider_the_stack_configured(realtime, lambda_context,
                                                                                 monkeypatch):
    monkeypatch.setenv("LOGIN_PROVIDER", "example.eu.auth0.com")
    pool_id = connect_realtime.os.environ["IDENTITY_POOL_ID"]
    identity = connect_realtime.identities.get_id(IdentityPoolId=pool_id, Logins={"x": TOKEN})["IdentityId"]
    with Stubber(connect_realtime.identities) as stub:
        stub.add_response("get_id", {"IdentityId": identity}, expected_params={
            "IdentityPoolId": pool_id, "Logins": {"example.eu.auth0.com": TOKEN}})
        status, body = _call(lambda_context, {"authorization": f"Bearer {TOKEN}"})
        stub.assert_no_pending_responses()
    assert (status, body["identityId"]) == (200, identity)


def test_calling_again_is_harmless(realtime, lambda_context):
    first = _call(lambda_context, {"Authorization": TOKEN})
    second = _call(lambda_context, {"Authorization": TOKEN})
    assert first[0] == second[0] == 200
    assert len(realtime.list_attached_policies(target=second[1]["identityId"])["policies"]) == 1


def test_an_identity_named_in_the_request_is_ignored(realtime, lambda_context):
    someone_else = "us-east-1:99999999-9999-9999-9999-999999999999"
    event = http_event("POST", "/realtime/session", body={"identityId": someone_else},
                       query={"identityId": someone_else})
    event["headers"] = {"authorization": f"Bearer {TOKEN}"}
    body = json.loads(connect_realtime.handler(event, lambda_context)["body"])
    assert body["identityId"] != someone_else
    assert realtime.list_attached_policies(target=someone_else)["policies"] == []


@pytest.mark.parametrize("code", ["NotAuthorizedException", "InvalidParameterException"])
def test_a_token_the_identity_pool_refuses_gets_400_and_nothing_is_attached(realtime, lambda_context, code):
    with Stubber(connect_realtime.identities) as stub:
        stub.add_client_error("get_id", service_error_code=code, http_status_code=400)
        status, body = _call(lambda_context, {"authorization": f"Bearer {TOKEN}"})
    assert status == 400
    assert "ID token" in body["message"]


@pytest.mark.parametrize("headers", [{}, {"authorization": ""}, {"authorization": "Bearer"},
                                     {"authorization": "Basic dXNlcjpwYXNz"}, {"authorization": "Bearer a.b"}])
def test_a_request_without_a_jwt_gets_401(realtime, lambda_context, headers):
    status, body = _call(lambda_context, headers)
    assert status == 401
    assert body["message"]


def test_bearer_token_accepts_the_scheme_in_any_case_and_a_bare_token():
    assert bearer_token({"Authorization": f"bearer {TOKEN}"}) == TOKEN
    assert bearer_token({"authorization": f"  {TOKEN} "}) == TOKEN
    with pytest.raises(Unauthorized, match="missing Authorization header"):
        bearer_token(None)


def test_the_session_names_every_topic_of_the_namespace():
    view = session(identity_id="eu-west-1:abc", endpoint="x-ats.iot.eu-west-1.amazonaws.com",
                   region="eu-west-1", prefix="ama")
    assert view["topics"] == {"geo": "ama/geo/<geohash5>", "question": "ama/questions/<questionId>",
                              "user": "ama/users/eu-west-1:abc", "system": "ama/system"}

"""The session route (lambda_src/browser_iot/open_session) against moto's Cognito identity pools
and IoT: the caller's own identity gets the system's IoT policy, only what the caller's token
proves is ever used, and whatever Cognito or IoT do the caller gets a clear answer."""
from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.stub import Stubber

from lambda_src.browser_iot.open_session import handler as open_session
from lambda_src.browser_iot.open_session.logic import MissingToken, SessionSettings, bearer_token, session

from .conftest import IOT_ENDPOINT

LOGIN_PROVIDER = "cognito-idp.us-east-1.amazonaws.com/us-east-1_Example"
TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl"
POLICY = "RobotViewers"
TOPICS = {"telemetry": "robot1/telemetry", "user": "robot1/users/{identityId}"}


@pytest.fixture
def iot(world, monkeypatch):
    identities, iot = open_session.identities, open_session.iot
    pool = identities.create_identity_pool(IdentityPoolName="viewers", AllowUnauthenticatedIdentities=False)
    iot.create_policy(policyName=POLICY, policyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}))
    for name, value in {"IDENTITY_POOL_ID": pool["IdentityPoolId"], "LOGIN_PROVIDER": LOGIN_PROVIDER,
                        "IOT_POLICY_NAME": POLICY, "IOT_DATA_ENDPOINT": IOT_ENDPOINT, "AWS_REGION": "us-east-1",
                        "CLIENT_ID_PREFIX": "robot1-viewer", "SESSION_TOPICS": json.dumps(TOPICS)}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("ALLOWED_ORIGINS", raising=False)
    return iot


def rest_event(headers: dict[str, str] | None, body: str | None = None) -> dict[str, Any]:
    """A REST API Lambda proxy event (payload 1.0) as a Cognito-authorized method receives it."""
    return {"resource": "/session", "path": "/session", "httpMethod": "POST", "headers": headers,
            "multiValueHeaders": None, "queryStringParameters": None, "body": body, "isBase64Encoded": False,
            "requestContext": {"requestId": "r-1", "stage": "prod",
                               "authorizer": {"claims": {"sub": "alice", "token_use": "id"}}}}


def http_api_event(headers: dict[str, str]) -> dict[str, Any]:
    """An HTTP API event (payload 2.0) as a JWT-authorized route receives it."""
    return {"version": "2.0", "routeKey": "POST /realtime/session", "rawPath": "/realtime/session",
            "headers": headers, "isBase64Encoded": False,
            "requestContext": {"requestId": "r-2", "http": {"method": "POST", "path": "/realtime/session"},
                               "authorizer": {"jwt": {"claims": {"sub": "alice"}, "scopes": None}}}}


def _call(lambda_context, headers, event_shape=rest_event) -> tuple[int, dict[str, Any], dict[str, str]]:
    response = open_session.handler(event_shape(headers), lambda_context)
    return response["statusCode"], json.loads(response["body"]), response["headers"]


def test_a_session_attaches_the_policy_to_the_callers_identity_and_names_its_client_ids_and_topics(
        iot, lambda_context):
    status, body, _ = _call(lambda_context, {"Authorization": f"Bearer {TOKEN}"})

    assert status == 200
    identity = body["identityId"]
    assert [p["policyName"] for p in iot.list_attached_policies(target=identity)["policies"]] == [POLICY]
    assert body == {"identityId": identity, "region": "us-east-1", "iotEndpoint": IOT_ENDPOINT,
                    "clientIdPrefix": f"robot1-viewer-{identity}-",
                    "topics": {"telemetry": "robot1/telemetry", "user": f"robot1/users/{identity}"}}


def test_an_http_api_event_is_served_the_same(iot, lambda_context):
    status, body, _ = _call(lambda_context, {"authorization": f"Bearer {TOKEN}"}, http_api_event)
    assert status == 200
    assert body["clientIdPrefix"] == f"robot1-viewer-{body['identityId']}-"


def test_the_identity_is_looked_up_under_the_login_provider_the_stack_configured(iot, lambda_context, monkeypatch):
    monkeypatch.setenv("LOGIN_PROVIDER", "example.eu.auth0.com")
    pool_id = open_session.os.environ["IDENTITY_POOL_ID"]
    identity = open_session.identities.get_id(IdentityPoolId=pool_id, Logins={"x": TOKEN})["IdentityId"]
    with Stubber(open_session.identities) as stub:
        stub.add_response("get_id", {"IdentityId": identity}, expected_params={
            "IdentityPoolId": pool_id, "Logins": {"example.eu.auth0.com": TOKEN}})
        status, body, _ = _call(lambda_context, {"authorization": f"Bearer {TOKEN}"})
        stub.assert_no_pending_responses()
    assert (status, body["identityId"]) == (200, identity)


def test_calling_again_is_harmless(iot, lambda_context):
    first = _call(lambda_context, {"Authorization": TOKEN})
    second = _call(lambda_context, {"Authorization": TOKEN})
    assert first[0] == second[0] == 200
    assert len(iot.list_attached_policies(target=second[1]["identityId"])["policies"]) == 1


def test_an_identity_named_in_the_request_is_ignored(iot, lambda_context):
    someone_else = "us-east-1:99999999-9999-9999-9999-999999999999"
    event = rest_event({"authorization": f"Bearer {TOKEN}"}, body=json.dumps({"identityId": someone_else}))
    event["queryStringParameters"] = {"identityId": someone_else}
    body = json.loads(open_session.handler(event, lambda_context)["body"])
    assert body["identityId"] != someone_else
    assert iot.list_attached_policies(target=someone_else)["policies"] == []


@pytest.mark.parametrize("code", ["NotAuthorizedException", "InvalidParameterException", "ResourceNotFoundException"])
def test_a_token_the_identity_pool_refuses_gets_400_and_nothing_is_attached(iot, lambda_context, code):
    with Stubber(open_session.identities) as stub, Stubber(open_session.iot) as iot_stub:
        stub.add_client_error("get_id", service_error_code=code, http_status_code=400)
        status, body, _ = _call(lambda_context, {"authorization": f"Bearer {TOKEN}"})
        iot_stub.assert_no_pending_responses()  # AttachPolicy was never called
    assert status == 400
    assert "ID token" in body["message"]


@pytest.mark.parametrize("code", ["TooManyRequestsException", "InternalErrorException"])
def test_cognito_failing_gets_503_with_a_message(iot, lambda_context, code):
    with Stubber(open_session.identities) as stub:
        stub.add_client_error("get_id", service_error_code=code, http_status_code=500)
        stub.add_client_error("get_id", service_error_code=code, http_status_code=500)  # the one retry
        status, body, _ = _call(lambda_context, {"authorization": f"Bearer {TOKEN}"})
    assert status == 503
    assert "try again" in body["message"]


def test_iot_refusing_the_attachment_gets_503_and_no_session(iot, lambda_context):
    with Stubber(open_session.iot) as stub:
        stub.add_client_error("attach_policy", service_error_code="LimitExceededException", http_status_code=410)
        status, body, _ = _call(lambda_context, {"authorization": f"Bearer {TOKEN}"})
    assert status == 503
    assert "identityId" not in body


def test_an_unreachable_service_gets_503(iot, lambda_context, monkeypatch):
    from botocore.exceptions import ConnectTimeoutError

    def hang(**_: Any) -> None:
        raise ConnectTimeoutError(endpoint_url="https://cognito-identity.us-east-1.amazonaws.com")

    monkeypatch.setattr(open_session.identities, "get_id", hang)
    status, _, _ = _call(lambda_context, {"authorization": f"Bearer {TOKEN}"})
    assert status == 503


def test_every_sdk_call_is_bounded_well_inside_the_functions_timeout():
    for client in (open_session.identities, open_session.iot):
        config = client.meta.config
        worst = config.retries["total_max_attempts"] * (config.connect_timeout + config.read_timeout)
        assert 2 * worst < 20 - 5  # two calls, 5 s to spare in the 20 s function (SESSION_TIMEOUT)


@pytest.mark.parametrize("headers", [None, {}, {"authorization": ""}, {"authorization": "Bearer"},
                                     {"authorization": "Basic dXNlcjpwYXNz"}, {"authorization": "Bearer a.b"}])
def test_a_request_without_a_jwt_gets_401(iot, lambda_context, headers):
    status, body, _ = _call(lambda_context, headers)
    assert status == 401
    assert body["message"]


def test_an_event_that_is_not_an_object_gets_401_not_a_crash(iot, lambda_context):
    response = open_session.handler(["not", "an", "event"], lambda_context)
    assert response["statusCode"] == 401


def test_a_listed_origin_is_echoed_and_another_gets_the_first_listed(iot, lambda_context, monkeypatch):
    monkeypatch.setenv("ALLOWED_ORIGINS", json.dumps(["https://d1.cloudfront.net", "http://localhost:8083"]))
    _, _, listed = _call(lambda_context, {"Authorization": TOKEN, "Origin": "http://localhost:8083"})
    _, _, other = _call(lambda_context, {"Authorization": TOKEN, "origin": "https://evil.example"})
    assert listed["access-control-allow-origin"] == "http://localhost:8083"
    assert other["access-control-allow-origin"] == "https://d1.cloudfront.net"
    assert listed["cache-control"] == "no-store"


def test_without_allowed_origins_no_cors_header_is_sent(iot, lambda_context):
    _, _, headers = _call(lambda_context, {"Authorization": TOKEN, "Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in headers


def test_bearer_token_accepts_the_scheme_in_any_case_and_a_bare_token():
    assert bearer_token({"Authorization": f"bearer {TOKEN}"}) == TOKEN
    assert bearer_token({"authorization": f"  {TOKEN} "}) == TOKEN
    with pytest.raises(MissingToken, match="missing Authorization header"):
        bearer_token(None)


def test_settings_the_stack_wrote_wrong_are_refused():
    environ = {"IDENTITY_POOL_ID": "p", "LOGIN_PROVIDER": "l", "IOT_POLICY_NAME": "n", "IOT_DATA_ENDPOINT": "e",
               "AWS_REGION": "r", "CLIENT_ID_PREFIX": "c", "SESSION_TOPICS": '["a/b"]'}
    with pytest.raises(ValueError, match="SESSION_TOPICS must be a JSON object"):
        SessionSettings.from_environment(environ)


def test_the_identity_placeholder_is_filled_in_every_topic():
    settings = SessionSettings(identity_pool_id="p", login_provider="l", policy_name="n", endpoint="e",
                               region="eu-west-1", client_id_prefix="ama",
                               topics={"user": "ama/users/{identityId}", "geo": "ama/geo/<geohash5>"})
    view = session(settings, "eu-west-1:abc")
    assert view["topics"] == {"user": "ama/users/eu-west-1:abc", "geo": "ama/geo/<geohash5>"}
    assert view["clientIdPrefix"] == "ama-eu-west-1:abc-"

"""The drive function (POST /publish) against moto's IoT data plane."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

import pytest
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID

from tests.support.lambda_context import FakeLambdaContext

from .conftest import REGION

ROBOT = "robot1"
IOT_DATA_ENDPOINT = "data-ats.iot.us-east-1.amazonaws.com"  # the host moto answers on


def rest_event(body: Any = None, *, raw_body: str | None = None, base64_body: bool = False) -> dict[str, Any]:
    """An API Gateway REST API proxy event (payload 1.0) behind a Cognito user pool authorizer."""
    text = raw_body if raw_body is not None else (None if body is None else json.dumps(body))
    if text is not None and base64_body:
        text = base64.b64encode(text.encode()).decode()
    return {
        "resource": "/publish", "path": "/publish", "httpMethod": "POST",
        "headers": {"content-type": "application/json"}, "multiValueHeaders": {},
        "queryStringParameters": None, "pathParameters": None, "stageVariables": None,
        "requestContext": {
            "resourcePath": "/publish", "httpMethod": "POST", "stage": "prod", "requestId": str(uuid.uuid4()),
            "accountId": DEFAULT_ACCOUNT_ID, "apiId": "api",
            "authorizer": {"claims": {"sub": "user-1", "cognito:username": "alice"}},
            "identity": {"sourceIp": "192.0.2.1"},
        },
        "body": text,
        "isBase64Encoded": base64_body,
    }


class Drive:
    def __init__(self, handler: Any) -> None:
        self._handler = handler
        self.message_expiry_seconds = handler.MESSAGE_EXPIRY_SECONDS

    def iot_data_client(self) -> Any:
        """The client the handler publishes with (cached per endpoint, as in Lambda)."""
        return self._handler._iot_data(IOT_DATA_ENDPOINT)

    def post(self, event: dict[str, Any]) -> tuple[int, dict[str, str], Any]:
        response = self._handler.handler(event, FakeLambdaContext())
        return response["statusCode"], response["headers"], json.loads(response["body"])

    @staticmethod
    def published() -> list[tuple[str, Any]]:
        from moto.iotdata.models import iotdata_backends

        payloads = iotdata_backends[DEFAULT_ACCOUNT_ID][REGION].published_payloads
        return [(topic, json.loads(payload)) for topic, payload in payloads]


@pytest.fixture
def drive(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("ROBOT_NAME", ROBOT)
    monkeypatch.setenv("IOT_DATA_ENDPOINT", IOT_DATA_ENDPOINT)
    monkeypatch.delenv("ALLOWED_ORIGINS", raising=False)
    with mock_aws():
        from lambda_src.telepresence_robot.drive import handler

        handler._iot_data.cache_clear()
        yield Drive(handler)
        handler._iot_data.cache_clear()


VALID = [
    {"action": "forward"},
    {"action": "backwards", "speed": 100, "duration_ms": 10000},
    {"action": "left", "speed": 0},
    {"action": "right", "duration_ms": 1},
    {"action": "stop"},
]


@pytest.mark.parametrize("command", VALID, ids=lambda c: json.dumps(c, sort_keys=True))
def test_a_valid_command_is_published_unchanged_to_the_robots_action_topic(drive, command):
    status, _, _ = drive.post(rest_event(command))
    assert status == 202
    assert drive.published() == [(f"{ROBOT}/action", command)]


def test_the_answer_is_202_with_the_topic_and_the_published_command(drive):
    status, headers, body = drive.post(rest_event({"speed": 35, "action": "forward", "duration_ms": 700}))
    assert status == 202
    assert headers["content-type"] == "application/json"
    assert body == {"topic": f"{ROBOT}/action", "command": {"action": "forward", "speed": 35, "duration_ms": 700}}


def test_the_topic_follows_the_robot_name_setting(drive, monkeypatch):
    monkeypatch.setenv("ROBOT_NAME", "kitchen-bot")
    drive.post(rest_event({"action": "stop"}))
    assert drive.published() == [("kitchen-bot/action", {"action": "stop"})]


def test_a_base64_encoded_body_is_decoded(drive):
    status, _, _ = drive.post(rest_event({"action": "left", "speed": 20}, base64_body=True))
    assert status == 202
    assert drive.published() == [(f"{ROBOT}/action", {"action": "left", "speed": 20})]


def test_commands_go_out_with_qos_1_as_json_and_expire_after_a_few_seconds(drive):
    sent: list[dict[str, Any]] = []
    client = drive.iot_data_client()
    client.meta.events.register("provide-client-params.iot-data.Publish",
                                lambda params, **_: sent.append(dict(params)))
    drive.post(rest_event({"action": "forward", "speed": 10}))
    [params] = sent
    assert params["topic"] == f"{ROBOT}/action"
    assert params["qos"] == 1
    assert params["contentType"] == "application/json"
    assert params["messageExpiry"] == drive.message_expiry_seconds <= 10
    assert json.loads(params["payload"]) == {"action": "forward", "speed": 10}


ORIGINS = '["https://robot.example.com", "http://localhost:8080"]'


@pytest.mark.parametrize("origin, allowed", [
    ("http://localhost:8080", "http://localhost:8080"),
    ("https://robot.example.com", "https://robot.example.com"),
    ("https://evil.example.net", "https://robot.example.com"),
    (None, "https://robot.example.com"),
])
def test_a_configured_origin_is_echoed_and_any_other_gets_the_first_one(drive, monkeypatch, origin, allowed):
    monkeypatch.setenv("ALLOWED_ORIGINS", ORIGINS)
    event = rest_event({"action": "stop"})
    if origin:
        event["headers"]["Origin"] = origin
    _, headers, _ = drive.post(event)
    assert headers["access-control-allow-origin"] == allowed
    assert headers["vary"] == "Origin"


def test_errors_carry_the_cors_header_too(drive, monkeypatch):
    monkeypatch.setenv("ALLOWED_ORIGINS", ORIGINS)
    event = rest_event({"action": "jump"})
    event["headers"]["origin"] = "http://localhost:8080"
    status, headers, _ = drive.post(event)
    assert status == 400
    assert headers["access-control-allow-origin"] == "http://localhost:8080"


def test_a_wildcard_origin_setting_allows_any_origin(drive, monkeypatch):
    monkeypatch.setenv("ALLOWED_ORIGINS", '["*"]')
    _, headers, _ = drive.post(rest_event({"action": "stop"}))
    assert headers["access-control-allow-origin"] == "*"


def test_without_an_origin_setting_no_cors_header_is_sent(drive):
    _, headers, _ = drive.post(rest_event({"action": "stop"}))
    assert "access-control-allow-origin" not in headers


def test_a_broker_refusing_the_command_gets_503_not_an_error(drive, monkeypatch):
    from botocore.exceptions import ClientError

    def refuse(**_kwargs):
        raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, "Publish")

    monkeypatch.setattr(drive.iot_data_client(), "publish", refuse)
    status, headers, body = drive.post(rest_event({"action": "forward"}))
    assert status == 503
    assert headers["content-type"] == "application/json"
    assert "try again" in body["message"]
    assert drive.published() == []


def test_the_broker_client_gives_up_well_inside_the_functions_10_s_timeout(drive):
    config = drive.iot_data_client().meta.config
    worst = config.retries["total_max_attempts"] * (config.connect_timeout + config.read_timeout)
    assert worst + 1 < 10  # a second for the standard mode's backoff


def test_an_unreachable_broker_gets_503(drive, monkeypatch):
    from botocore.exceptions import ConnectTimeoutError

    def hang(**_kwargs):
        raise ConnectTimeoutError(endpoint_url=f"https://{IOT_DATA_ENDPOINT}")

    monkeypatch.setattr(drive.iot_data_client(), "publish", hang)
    status, _, body = drive.post(rest_event({"action": "forward"}))
    assert status == 503 and "try again" in body["message"]


INVALID = {
    "empty body": rest_event(raw_body=""),
    "no body": rest_event(),
    "malformed JSON": rest_event(raw_body='{"action": "forward"'),
    "not UTF-8 base64": rest_event(raw_body=base64.b64encode(b"\xff\xfe").decode(), base64_body=False) | {
        "isBase64Encoded": True},
    "invalid base64": rest_event(raw_body="%%%") | {"isBase64Encoded": True},
    "base64 with non-ASCII characters": rest_event(raw_body="e3sn\u00e9") | {"isBase64Encoded": True},
    "JSON array": rest_event([{"action": "forward"}]),
    "JSON string": rest_event("forward"),
    "JSON null": rest_event(raw_body="null"),
    "missing action": rest_event({"speed": 50}),
    "unknown action": rest_event({"action": "jump"}),
    "action in capitals": rest_event({"action": "FORWARD"}),
    "action not a string": rest_event({"action": 1}),
    "action null": rest_event({"action": None}),
    "speed below range": rest_event({"action": "forward", "speed": -1}),
    "speed above range": rest_event({"action": "forward", "speed": 101}),
    "speed a string": rest_event({"action": "forward", "speed": "50"}),
    "speed a fraction": rest_event({"action": "forward", "speed": 50.5}),
    "speed a float": rest_event({"action": "forward", "speed": 50.0}),
    "speed a boolean": rest_event({"action": "forward", "speed": True}),
    "speed null": rest_event({"action": "forward", "speed": None}),
    "duration zero": rest_event({"action": "forward", "duration_ms": 0}),
    "duration above range": rest_event({"action": "forward", "duration_ms": 10001}),
    "duration a string": rest_event({"action": "forward", "duration_ms": "1000"}),
    "extra field": rest_event({"action": "forward", "target": "robot2"}),
    "oversized body": rest_event(raw_body=json.dumps({"action": "forward"}) + " " * 2000),
    "huge body": rest_event({"action": "forward", "note": "x" * 6_000_000}),
    "huge base64 body": rest_event({"action": "forward", "note": "x" * 1_000_000}, base64_body=True),
    "duration a fraction": rest_event({"action": "forward", "duration_ms": 100.5}),
    "duration negative": rest_event({"action": "forward", "duration_ms": -5}),
    "speed an object": rest_event({"action": "forward", "speed": {"value": 5}}),
    "several extra fields": rest_event({"action": "forward", "speed": 5, "robot": "robot2", "topic": "robot2/action"}),
    "duplicate action": rest_event(raw_body='{"action": "stop", "action": "forward"}'),
    "duplicate action, escaped": rest_event(raw_body='{"action": "forward", "\\u0061ction": "forward"}'),
    "duplicate speed": rest_event(raw_body='{"action": "forward", "speed": 10, "speed": 100}'),
    "duplicate in base64": rest_event(raw_body='{"action": "stop", "action": "left"}', base64_body=True),
    "NaN": rest_event(raw_body='{"action": "forward", "speed": NaN}'),
    "Infinity in a stop": rest_event(raw_body='{"action": "stop", "duration_ms": Infinity}'),
    "-Infinity": rest_event(raw_body='{"action": "forward", "speed": -Infinity}'),
    "nested too deeply": rest_event(raw_body='{"action": "stop", "x": ' + "[" * 990),
    "nine hundred digits": rest_event(raw_body='{"action": "forward", "speed": ' + "9" * 900 + "}"),
    "an exponent": rest_event(raw_body='{"action": "forward", "speed": 1e2}'),
    "byte order mark": rest_event(raw_body='\ufeff{"action": "stop"}'),
    "Cyrillic s in stop": rest_event({"action": "\u0455top"}),
    "fullwidth f in forward": rest_event({"action": "\uff46orward"}),
    "zero-width space after stop": rest_event({"action": "stop\u200b"}),
    "NUL after stop": rest_event({"action": "stop\u0000"}),
    "lone surrogate": rest_event(raw_body='{"action": "\\ud800"}'),
    "Cyrillic a in the action field": rest_event({"\u0430ction": "forward"}),
    "body already decoded to an object": rest_event() | {"body": {"action": "stop"}},
    "body a list": rest_event() | {"body": [{"action": "stop"}]},
    "body a number": rest_event() | {"body": 5},
    "body a boolean": rest_event() | {"body": True},
}


@pytest.mark.parametrize("event", INVALID.values(), ids=INVALID.keys())
def test_an_invalid_body_is_refused_with_400_and_nothing_is_published(drive, event):
    status, headers, body = drive.post(event)
    assert status == 400
    assert headers["content-type"] == "application/json"
    assert isinstance(body["message"], str) and body["message"]
    assert drive.published() == []


@pytest.mark.parametrize("body, field", [
    ('{"action": "stop", "action": "forward"}', "action"),
    ('{"action": "forward", "speed": 10, "speed": 100}', "speed"),
    ('{"action": "forward", "\\u0061ction": "left"}', "action"),
])
def test_a_duplicate_field_is_refused_with_a_message_that_names_it(drive, body, field):
    status, _, answer = drive.post(rest_event(raw_body=body))
    assert status == 400
    assert answer["message"] == f"request body has the field '{field}' more than once"
    assert drive.published() == []


STOPS_WITH_BAD_FIELDS = [
    {"action": "stop", "duration_ms": 0},
    {"action": "stop", "speed": 101},
    {"action": "stop", "speed": True},
    {"action": "stop", "speed": None, "duration_ms": "soon"},
    {"action": "stop", "speed": 5, "robot": "robot2", "topic": "robot2/action"},
]


@pytest.mark.parametrize("body", STOPS_WITH_BAD_FIELDS, ids=lambda body: json.dumps(body))
def test_a_stop_is_published_as_a_plain_stop_whatever_else_the_body_carries(drive, body):
    status, _, answer = drive.post(rest_event(body))
    assert status == 202
    assert drive.published() == [(f"{ROBOT}/action", {"action": "stop"})]
    assert answer["command"] == {"action": "stop"}
    assert answer["ignored_fields"] == sorted(set(body) - {"action"})


def test_a_plain_stop_is_answered_without_ignored_fields(drive):
    _, _, answer = drive.post(rest_event({"action": "stop"}))
    assert "ignored_fields" not in answer


@pytest.mark.parametrize("event", [None, [], "{\"action\": \"stop\"}", 5],
                         ids=["null", "a list", "a string", "a number"])
def test_a_direct_invocation_with_an_event_that_is_not_an_object_gets_400(drive, event):
    response = drive._handler.handler(event, FakeLambdaContext())
    assert response["statusCode"] == 400
    assert json.loads(response["body"])["message"] == "the event must be an API Gateway proxy event (a JSON object)"
    assert drive.published() == []


def test_headers_that_are_not_an_object_are_ignored_for_cors(drive, monkeypatch):
    monkeypatch.setenv("ALLOWED_ORIGINS", ORIGINS)
    status, headers, _ = drive.post(rest_event({"action": "stop"}) | {"headers": ["Origin: https://evil.example.net"]})
    assert status == 202
    assert headers["access-control-allow-origin"] == "https://robot.example.com"


def test_the_ignored_fields_of_a_stop_are_logged_in_a_form_any_log_stream_can_write(drive, monkeypatch):
    warnings: list[tuple[str, dict]] = []
    monkeypatch.setattr(drive._handler.logger, "warning", lambda message, extra: warnings.append((message, extra)))
    status, _, answer = drive.post(rest_event(raw_body='{"action": "stop", "\\ud800": 1, "speed": 500}'))
    assert status == 202 and answer["ignored_fields"] == ["speed", "\ud800"]
    [(_, extra)] = warnings
    assert extra["ignored_fields"] == ["speed", "\\ud800"]
    json.dumps(extra, ensure_ascii=False).encode("utf-8")  # a lone surrogate here would make the line unwritable

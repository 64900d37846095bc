"""The robot's drive API under ``python -m local``: commands published to the local broker."""
from __future__ import annotations

from local.oidc.client import http
from local.settings import ROBOT_NAME
from tests.support.local_suite import LocalRun, Subscriber, client_config, sign_in


def drive(run: LocalRun, token: str | None, command: dict):
    headers = {"Origin": run.url("robot_web")}
    if token:
        headers["Authorization"] = token
    return http("POST", client_config(run, "robot")["apiUrl"], json_body=command, headers=headers)


def test_a_drive_command_is_published_to_the_robots_action_topic(local_suite: LocalRun, subscriber: Subscriber):
    subscriber.subscribe(f"{ROBOT_NAME}/action")
    answer = drive(local_suite, sign_in(local_suite, "robot")["id_token"], {"action": "left", "speed": 40})
    assert answer.status == 202, answer.text
    assert subscriber.wait_for(lambda messages: (f"{ROBOT_NAME}/action", {"action": "left", "speed": 40})
                               in messages)


def test_the_drive_api_echoes_the_web_clients_origin(local_suite: LocalRun):
    answer = drive(local_suite, sign_in(local_suite, "robot")["id_token"], {"action": "stop"})
    assert answer.header("access-control-allow-origin") == local_suite.url("robot_web")


def test_a_command_outside_the_model_is_refused_before_the_function(local_suite: LocalRun):
    answer = drive(local_suite, sign_in(local_suite, "robot")["id_token"], {"action": "fly"})
    assert answer.status == 400 and answer.json()["message"].startswith("Invalid drive command")


def test_driving_without_a_token_is_refused(local_suite: LocalRun):
    assert drive(local_suite, None, {"action": "stop"}).status == 401


def test_a_viewer_session_names_the_client_ids_and_the_telemetry_topic(local_suite: LocalRun):
    session_url = client_config(local_suite, "robot")["telemetry"]["sessionUrl"]
    token = sign_in(local_suite, "robot")["id_token"]
    answer = http("POST", session_url, json_body={}, headers={"Authorization": token,
                                                              "Origin": local_suite.url("robot_web")})
    assert answer.status == 200, answer.text
    body = answer.json()
    assert body["clientIdPrefix"] == f"{ROBOT_NAME}-viewer-{body['identityId']}-"
    assert body["topics"] == {"telemetry": f"{ROBOT_NAME}/telemetry"}
    assert answer.header("access-control-allow-origin") == local_suite.url("robot_web")


def test_a_viewer_session_without_a_token_is_refused(local_suite: LocalRun):
    session_url = client_config(local_suite, "robot")["telemetry"]["sessionUrl"]
    assert http("POST", session_url, json_body={}).status == 401

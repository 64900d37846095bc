"""Ask Around Me under ``python -m local``: the real handlers behind the JWT authorizer, the
queues and streams pumped to the consumers, the updates on the local broker."""
from __future__ import annotations

import random
from typing import Any

import pytest

from local.oidc.client import http
from tests.support.local_suite import LocalRun, Subscriber, client_config, eventually, sign_in


@pytest.fixture(scope="module")
def tokens(local_suite: LocalRun) -> dict[str, dict]:
    return {"alice": sign_in(local_suite, "askaroundme", "alice@example.com"),
            "bob": sign_in(local_suite, "askaroundme", "bob@example.com")}


def call(run: LocalRun, method: str, path: str, token: str | None, body: Any = None):
    headers = {"Origin": run.url("askaroundme_web")}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return http(method, client_config(run, "askaroundme")["apiUrl"] + path, json_body=body, headers=headers)


def somewhere() -> tuple[float, float]:
    """A place of its own per test, so that tests sharing the suite do not see each other's questions."""
    return round(random.uniform(-50, 50), 4), round(random.uniform(-170, 170), 4)


def ask(run: LocalRun, token: str, lat: float, lng: float, text: str = "Best coffee nearby?") -> str:
    answer = call(run, "POST", "/questions", token, {"text": text, "type": "star", "lat": lat, "lng": lng})
    assert answer.status == 202, answer.text
    return answer.json()["questionId"]


def listed(run: LocalRun, token: str, lat: float, lng: float) -> list[dict]:
    return call(run, "GET", f"/questions?lat={lat}&lng={lng}", token).json()["questions"]


def test_a_posted_question_appears_in_the_list_once_the_queue_is_pumped(local_suite: LocalRun, tokens):
    lat, lng = somewhere()
    question_id = ask(local_suite, tokens["alice"]["id_token"], lat, lng)
    found = eventually(lambda: [q for q in listed(local_suite, tokens["alice"]["id_token"], lat, lng)
                                if q["questionId"] == question_id])
    assert found and found[0]["text"] == "Best coffee nearby?" and found[0]["answerCount"] == 0


def test_an_answer_moves_the_questions_score(local_suite: LocalRun, tokens):
    lat, lng = somewhere()
    question_id = ask(local_suite, tokens["alice"]["id_token"], lat, lng)
    assert eventually(lambda: listed(local_suite, tokens["alice"]["id_token"], lat, lng))
    answered = call(local_suite, "POST", "/answers", tokens["bob"]["id_token"],
                    {"questionId": question_id, "type": "star", "rating": 4})
    assert answered.status == 202, answered.text
    scored = eventually(lambda: [q for q in listed(local_suite, tokens["alice"]["id_token"], lat, lng)
                                 if q["answerCount"] == 1])
    assert scored and scored[0]["avgScore"] == 4


def test_a_subscriber_on_the_local_broker_receives_the_score_update(local_suite: LocalRun, tokens,
                                                                     subscriber: Subscriber):
    lat, lng = somewhere()
    question_id = ask(local_suite, tokens["alice"]["id_token"], lat, lng)
    subscriber.subscribe(f"askaroundme/questions/{question_id}")
    assert eventually(lambda: listed(local_suite, tokens["alice"]["id_token"], lat, lng))
    call(local_suite, "POST", "/answers", tokens["bob"]["id_token"],
         {"questionId": question_id, "type": "star", "rating": 5})
    assert subscriber.wait_for(lambda messages: any(
        payload.get("event") == "question.summary" and payload.get("answerCount") == 1
        for _, payload in messages if isinstance(payload, dict)))
    topic, payload = subscriber.messages[-1]
    assert topic == f"askaroundme/questions/{question_id}" and payload["avgScore"] == 5


def test_a_new_question_is_published_to_its_geo_topic(local_suite: LocalRun, tokens, subscriber: Subscriber):
    lat, lng = somewhere()
    subscriber.subscribe("askaroundme/geo/#")
    question_id = ask(local_suite, tokens["alice"]["id_token"], lat, lng, "Where is the market?")
    assert subscriber.wait_for(lambda messages: any(
        isinstance(payload, dict) and payload.get("questionId") == question_id for _, payload in messages))


def test_a_request_without_a_token_is_refused_with_www_authenticate(local_suite: LocalRun):
    answer = call(local_suite, "GET", "/questions?lat=1&lng=1", None)
    assert answer.status == 401 and answer.header("www-authenticate") == "Bearer"


def test_a_token_issued_to_another_app_is_refused_for_its_audience(local_suite: LocalRun):
    shortener_token = sign_in(local_suite, "shortener")["id_token"]
    answer = call(local_suite, "GET", "/questions?lat=1&lng=1", shortener_token)
    assert answer.status == 401 and "invalid_token" in answer.header("www-authenticate")


def test_a_cors_preflight_is_answered_for_the_web_clients_origin(local_suite: LocalRun):
    answer = http("OPTIONS", client_config(local_suite, "askaroundme")["apiUrl"] + "/questions",
                  headers={"Origin": local_suite.url("askaroundme_web"), "Access-Control-Request-Method": "POST"})
    assert answer.status == 204
    assert answer.header("access-control-allow-origin") == local_suite.url("askaroundme_web")
    assert "POST" in answer.header("access-control-allow-methods")


def test_bad_input_is_refused_by_the_handler_with_its_message(local_suite: LocalRun, tokens):
    answer = call(local_suite, "POST", "/questions", tokens["alice"]["id_token"],
                  {"text": "x", "type": "star", "lat": 91, "lng": 0})
    assert answer.status == 400 and "lat" in answer.json()["message"]

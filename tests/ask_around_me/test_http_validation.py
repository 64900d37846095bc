"""Every bad input of the HTTP routes gets a 400 with a message, and nothing is queued."""

from __future__ import annotations

import json
import uuid

import pytest

from lambda_src.ask_around_me.delete_answer import handler as delete_answer
from lambda_src.ask_around_me.get_answers import handler as get_answers
from lambda_src.ask_around_me.get_heatmap import handler as get_heatmap
from lambda_src.ask_around_me.list_questions import handler as list_questions
from lambda_src.ask_around_me.post_answer import handler as post_answer
from lambda_src.ask_around_me.post_question import handler as post_question

from .conftest import QUESTIONS_TABLE, QUEUES, http_event

VALID_QUESTION = {"text": "Is the market open?", "type": "star", "lat": 51.5, "lng": -0.12}
STAR_QUESTION = str(uuid.uuid4())
GEO_QUESTION = str(uuid.uuid4())


@pytest.fixture
def questions(world):
    table = world.tables.Table(QUESTIONS_TABLE)
    table.put_item(Item={"questionId": STAR_QUESTION, "type": "star", "answerCount": 0, "totalScore": 0})
    table.put_item(Item={"questionId": GEO_QUESTION, "type": "geo", "answerCount": 0, "heatmap": {}})
    return world


def _assert_rejected(response, world, *fragments):
    assert response["statusCode"] == 400, response
    message = json.loads(response["body"])["message"]
    for fragment in fragments:
        assert fragment in message
    assert all(world.queue_depth(queue) == 0 for queue in QUEUES)


@pytest.mark.parametrize(("body", "fragment"), [
    ({**VALID_QUESTION, "lat": 90.0001}, "'lat' must be between -90 and 90"),
    ({**VALID_QUESTION, "lat": -91}, "'lat' must be between -90 and 90"),
    ({**VALID_QUESTION, "lng": 180.5}, "'lng' must be between -180 and 180"),
    ({**VALID_QUESTION, "lng": -181}, "'lng' must be between -180 and 180"),
    ({**VALID_QUESTION, "lat": "51.5"}, "'lat' must be a number"),
    ({**VALID_QUESTION, "lng": True}, "'lng' must be a number"),
    ({k: v for k, v in VALID_QUESTION.items() if k != "lat"}, "'lat' is required"),
    ({**VALID_QUESTION, "type": "poll"}, "'type' must be one of star, geo"),
    ({k: v for k, v in VALID_QUESTION.items() if k != "type"}, "'type' must be one of star, geo"),
    ({**VALID_QUESTION, "text": ""}, "'text' must be a non-empty string"),
    ({**VALID_QUESTION, "text": "   \n "}, "'text' must be a non-empty string"),
    ({**VALID_QUESTION, "text": 42}, "'text' must be a non-empty string"),
    ({**VALID_QUESTION, "text": "x" * 281}, "at most 280 characters"),
], ids=["lat-above-90", "lat-below-minus-90", "lng-above-180", "lng-below-minus-180", "lat-as-string",
        "lng-as-bool", "lat-missing", "unknown-type", "type-missing", "text-empty", "text-blank",
        "text-not-a-string", "text-over-280"])
def test_a_bad_question_is_rejected_with_its_reason_and_not_queued(world, lambda_context, body, fragment):
    _assert_rejected(post_question.handler(http_event("POST", "/questions", body=body), lambda_context),
                     world, fragment)


@pytest.mark.parametrize(("raw_body", "fragment"), [
    (None, "request body is required"),
    ("", "request body is required"),
    ("{not json", "request body must be valid JSON"),
    ("[1, 2]", "request body must be a JSON object"),
    ('"text"', "request body must be a JSON object"),
], ids=["missing", "empty", "malformed", "array", "string"])
def test_a_missing_or_malformed_question_body_is_rejected_and_not_queued(world, lambda_context, raw_body, fragment):
    event = http_event("POST", "/questions", raw_body=raw_body)
    _assert_rejected(post_question.handler(event, lambda_context), world, fragment)


def test_a_base64_body_that_does_not_decode_is_rejected(world, lambda_context):
    event = http_event("POST", "/questions", raw_body="!!not base64!!")
    event["isBase64Encoded"] = True
    _assert_rejected(post_question.handler(event, lambda_context), world, "valid JSON")


def test_a_valid_base64_encoded_question_is_accepted(world, lambda_context):
    event = http_event("POST", "/questions", body=VALID_QUESTION, base64_body=True)
    assert post_question.handler(event, lambda_context)["statusCode"] == 202
    assert world.queue_depth("Questions") == 1


def test_a_question_is_queued_with_the_token_subject_as_author_never_the_body(world, lambda_context):
    event = http_event("POST", "/questions", body={**VALID_QUESTION, "author": "mallory", "userId": "mallory"},
                       user="alice")
    response = post_question.handler(event, lambda_context)
    message = json.loads(world.receive("Questions")[0]["body"])
    assert response["statusCode"] == 202
    assert message["author"] == "alice"
    assert message["questionId"] == json.loads(response["body"])["questionId"]


def test_a_request_without_a_subject_claim_is_refused_and_not_queued(world, lambda_context):
    response = post_question.handler(http_event("POST", "/questions", body=VALID_QUESTION, user=None), lambda_context)
    assert response["statusCode"] == 401
    assert world.queue_depth("Questions") == 0


@pytest.mark.parametrize(("body", "fragment"), [
    ({"questionId": STAR_QUESTION, "type": "star", "rating": 6}, "'rating' must be from 0 to 5"),
    ({"questionId": STAR_QUESTION, "type": "star", "rating": -1}, "'rating' must be from 0 to 5"),
    ({"questionId": STAR_QUESTION, "type": "star", "rating": 3.5}, "'rating' must be an integer"),
    ({"questionId": STAR_QUESTION, "type": "star", "rating": "4"}, "'rating' must be an integer"),
    ({"questionId": STAR_QUESTION, "type": "star", "rating": True}, "'rating' must be an integer"),
    ({"questionId": STAR_QUESTION, "type": "star"}, "'rating' must be an integer"),
    ({"questionId": GEO_QUESTION, "type": "geo", "lat": 95, "lng": 0}, "'lat' must be between -90 and 90"),
    ({"questionId": GEO_QUESTION, "type": "geo", "lat": 0, "lng": -180.01}, "'lng' must be between -180 and 180"),
    ({"questionId": GEO_QUESTION, "type": "geo", "lng": 0}, "'lat' is required"),
    ({"questionId": STAR_QUESTION, "type": "thumbs", "rating": 1}, "'type' must be one of star, geo"),
    ({"questionId": "not-an-id", "type": "star", "rating": 1}, "'questionId' must be a question id"),
    ({"type": "star", "rating": 1}, "'questionId' must be a question id"),
    ({"questionId": GEO_QUESTION, "type": "star", "rating": 1}, "takes geo answers, not star"),
    ({"questionId": STAR_QUESTION, "type": "geo", "lat": 1, "lng": 1}, "takes star answers, not geo"),
], ids=["rating-6", "rating-negative", "rating-fraction", "rating-string", "rating-bool", "rating-missing",
        "geo-lat-out-of-range", "geo-lng-out-of-range", "geo-lat-missing", "unknown-type", "bad-question-id",
        "question-id-missing", "star-answer-to-geo-question", "geo-answer-to-star-question"])
def test_a_bad_answer_is_rejected_with_its_reason_and_not_queued(questions, lambda_context, body, fragment):
    _assert_rejected(post_answer.handler(http_event("POST", "/answers", body=body), lambda_context),
                     questions, fragment)


def test_a_malformed_answer_body_is_rejected_and_not_queued(questions, lambda_context):
    _assert_rejected(post_answer.handler(http_event("POST", "/answers", raw_body="{'single': quotes}"),
                                         lambda_context), questions, "valid JSON")


def test_an_answer_to_an_unknown_question_is_not_found_and_not_queued(questions, lambda_context):
    body = {"questionId": str(uuid.uuid4()), "type": "star", "rating": 3}
    response = post_answer.handler(http_event("POST", "/answers", body=body), lambda_context)
    assert response["statusCode"] == 404
    assert all(questions.queue_depth(queue) == 0 for queue in QUEUES)


@pytest.mark.parametrize(("body", "queue"), [
    ({"questionId": STAR_QUESTION, "type": "star", "rating": 0}, "StarAnswers"),
    ({"questionId": GEO_QUESTION, "type": "geo", "lat": -33.86, "lng": 151.21}, "GeoAnswers"),
], ids=["star", "geo"])
def test_an_answer_is_routed_to_the_queue_of_its_type(questions, lambda_context, body, queue):
    response = post_answer.handler(http_event("POST", "/answers", body={**body, "userId": "mallory"}, user="bob"),
                                   lambda_context)
    assert response["statusCode"] == 202
    assert {q: questions.queue_depth(q) for q in ("StarAnswers", "GeoAnswers")} == {
        q: int(q == queue) for q in ("StarAnswers", "GeoAnswers")}
    assert json.loads(questions.receive(queue)[0]["body"])["userId"] == "bob"


@pytest.mark.parametrize(("query", "fragment"), [
    (None, "'lat' is required"),
    ({"lng": "0"}, "'lat' is required"),
    ({"lat": "0"}, "'lng' is required"),
    ({"lat": "north", "lng": "0"}, "'lat' must be a number"),
    ({"lat": "90.5", "lng": "0"}, "'lat' must be between -90 and 90"),
    ({"lat": "0", "lng": "-180.5"}, "'lng' must be between -180 and 180"),
    ({"lat": "nan", "lng": "0"}, "'lat' must be between -90 and 90"),
    ({"lat": "0", "lng": "inf"}, "'lng' must be between -180 and 180"),
], ids=["no-query", "lat-missing", "lng-missing", "lat-not-a-number", "lat-out-of-range", "lng-out-of-range",
        "lat-nan", "lng-infinite"])
def test_a_bad_question_search_is_rejected_with_its_reason(world, lambda_context, query, fragment):
    _assert_rejected(list_questions.handler(http_event("GET", "/questions", query=query), lambda_context),
                     world, fragment)


@pytest.mark.parametrize(("handler", "route", "path"), [
    (get_answers, "/questions/{id}/answers", {"id": "42"}),
    (get_heatmap, "/questions/{id}/heatmap", {"id": "'; DROP TABLE"}),
    (delete_answer, "/answers/{questionId}", {"questionId": "nope"}),
], ids=["answers", "heatmap", "delete"])
def test_a_malformed_question_id_in_the_path_is_rejected(world, lambda_context, handler, route, path):
    method = "DELETE" if handler is delete_answer else "GET"
    _assert_rejected(handler.handler(http_event(method, route, path=path), lambda_context), world,
                     "must be a UUID")


def test_a_forged_answers_page_token_is_rejected(world, lambda_context):
    event = http_event("GET", "/questions/{id}/answers", path={"id": STAR_QUESTION}, query={"nextToken": "%%%"})
    _assert_rejected(get_answers.handler(event, lambda_context), world, "nextToken is not valid")


def test_the_heat_map_of_a_star_question_is_a_bad_request(questions, lambda_context):
    event = http_event("GET", "/questions/{id}/heatmap", path={"id": STAR_QUESTION})
    _assert_rejected(get_heatmap.handler(event, lambda_context), questions, "only geo questions have a heat map")


def test_the_heat_map_of_an_unknown_question_is_not_found(questions, lambda_context):
    event = http_event("GET", "/questions/{id}/heatmap", path={"id": str(uuid.uuid4())})
    assert get_heatmap.handler(event, lambda_context)["statusCode"] == 404

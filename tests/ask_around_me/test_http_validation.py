"""Every bad input of the HTTP routes gets a 400 with a message, and nothing is queued."""

from __future__ import annotations

import base64
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
    _assert_rejected(post_question.handler(event, lambda_context), world, "marked base64 but is not valid base64")


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


def test_a_forged_answers_page_token_is_rejected(questions, lambda_context):
    event = http_event("GET", "/questions/{id}/answers", path={"id": STAR_QUESTION}, query={"nextToken": "%%%"})
    _assert_rejected(get_answers.handler(event, lambda_context), questions, "Invalid page token")


def test_the_heat_map_of_a_star_question_is_a_bad_request(questions, lambda_context):
    event = http_event("GET", "/questions/{id}/heatmap", path={"id": STAR_QUESTION})
    _assert_rejected(get_heatmap.handler(event, lambda_context), questions, "only geo questions have a heat map")


def test_the_heat_map_of_an_unknown_question_is_not_found(questions, lambda_context):
    unknown = str(uuid.uuid4())
    response = get_heatmap.handler(http_event("GET", "/questions/{id}/heatmap", path={"id": unknown}), lambda_context)
    assert response["statusCode"] == 404
    assert json.loads(response["body"]) == {"message": f"question {unknown} not found"}


# -- hostile bodies: huge numbers, deep nesting, duplicate keys, megabytes, unicode tricks -------

HUGE_INTEGER = "9" * 400
OVER_PYTHON_DIGIT_LIMIT = "9" * 5000  # json.loads raises ValueError past 4300 digits
QUESTION_FIELDS = '"text": "Is the market open?", "type": "star"'


def _question_body(lat: str, lng: str = "0") -> str:
    return f'{{{QUESTION_FIELDS}, "lat": {lat}, "lng": {lng}}}'


def _assert_short_rejection(response, world, *fragments):
    _assert_rejected(response, world, *fragments)
    assert len(json.loads(response["body"])["message"]) < 200, "the message must not echo the input"


@pytest.mark.parametrize("digits", [HUGE_INTEGER, OVER_PYTHON_DIGIT_LIMIT, f"-{HUGE_INTEGER}"],
                         ids=["400-digits", "5000-digits", "negative-400-digits"])
def test_a_question_with_a_huge_integer_coordinate_is_rejected_with_a_clear_message(world, lambda_context,
                                                                                     digits):
    event = http_event("POST", "/questions", raw_body=_question_body(digits))
    _assert_short_rejection(post_question.handler(event, lambda_context), world,
                            "numbers in the request body may have at most 40 characters")


@pytest.mark.parametrize("digits", [HUGE_INTEGER, OVER_PYTHON_DIGIT_LIMIT], ids=["400-digits", "5000-digits"])
def test_a_geo_answer_with_a_huge_integer_coordinate_is_rejected_with_a_clear_message(questions, lambda_context,
                                                                                      digits):
    raw = f'{{"questionId": "{GEO_QUESTION}", "type": "geo", "lat": {digits}, "lng": 0}}'
    _assert_short_rejection(post_answer.handler(http_event("POST", "/answers", raw_body=raw), lambda_context),
                            questions, "numbers in the request body may have at most 40 characters")


def test_a_star_answer_with_a_huge_integer_rating_is_rejected_with_a_clear_message(questions, lambda_context):
    raw = f'{{"questionId": "{STAR_QUESTION}", "type": "star", "rating": {HUGE_INTEGER}}}'
    _assert_short_rejection(post_answer.handler(http_event("POST", "/answers", raw_body=raw), lambda_context),
                            questions, "numbers in the request body may have at most 40 characters")


@pytest.mark.parametrize("lat", ["1e400", "-1e400"], ids=["overflows-to-infinity", "overflows-to-minus-infinity"])
def test_a_coordinate_that_overflows_a_float_is_out_of_range(world, lambda_context, lat):
    event = http_event("POST", "/questions", raw_body=_question_body(lat))
    _assert_short_rejection(post_question.handler(event, lambda_context), world, "'lat' must be between -90 and 90")


@pytest.mark.parametrize("lat", [HUGE_INTEGER, OVER_PYTHON_DIGIT_LIMIT], ids=["400-digits", "5000-digits"])
def test_a_question_search_with_a_huge_coordinate_is_rejected_with_a_short_message(world, lambda_context, lat):
    event = http_event("GET", "/questions", query={"lat": lat, "lng": "0"})
    _assert_short_rejection(list_questions.handler(event, lambda_context), world,
                            "query parameter 'lat' must be between -90 and 90")


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_literals_are_rejected_as_invalid_json(world, lambda_context, literal):
    event = http_event("POST", "/questions", raw_body=_question_body(literal))
    _assert_rejected(post_question.handler(event, lambda_context), world,
                     "request body must be valid JSON (NaN and Infinity are not JSON numbers)")


@pytest.mark.parametrize("raw_body", [
    f'{{{QUESTION_FIELDS}, "lat": 1, "lng": 2, "lat": 3}}',
    f'{{{QUESTION_FIELDS}, "lat": 1, "lng": 2, "extra": {{"a": 1, "a": 2}}}}',
], ids=["top-level", "nested"])
def test_a_body_with_a_duplicate_key_is_rejected(world, lambda_context, raw_body):
    event = http_event("POST", "/questions", raw_body=raw_body)
    _assert_rejected(post_question.handler(event, lambda_context), world, "request body repeats the key")


def test_a_deeply_nested_body_is_rejected_not_crashed(world, lambda_context):
    raw = '{"text": ' + "[" * 2000 + "]" * 2000 + ', "type": "star", "lat": 1, "lng": 2}'
    assert len(raw) < 4100
    event = http_event("POST", "/questions", raw_body=raw)
    _assert_rejected(post_question.handler(event, lambda_context), world,
                     "request body nests deeper than 10 levels")


def test_brackets_inside_strings_do_not_count_as_nesting(world, lambda_context):
    body = {**VALID_QUESTION, "text": "[[[[[[[[[[[[ {{{{{{{{{{{{ \" ]]]] still a question?"}
    response = post_question.handler(http_event("POST", "/questions", body=body), lambda_context)
    assert response["statusCode"] == 202, response


def test_a_megabyte_body_is_rejected_before_it_is_parsed(world, lambda_context):
    raw = f'{{{QUESTION_FIELDS}, "lat": 1, "lng": 2, "padding": "{"x" * 1_000_000}"}}'
    _assert_short_rejection(post_question.handler(http_event("POST", "/questions", raw_body=raw), lambda_context),
                            world, "request body must be at most 16384 bytes")


def test_a_megabyte_base64_body_is_rejected_before_it_is_decoded(world, lambda_context):
    raw = f'{{{QUESTION_FIELDS}, "lat": 1, "lng": 2, "padding": "{"x" * 1_000_000}"}}'
    event = http_event("POST", "/questions", raw_body=raw, base64_body=True)
    _assert_short_rejection(post_question.handler(event, lambda_context), world,
                            "request body must be at most 16384 bytes")


def test_a_base64_body_gets_the_same_checks_as_a_plain_one(world, lambda_context):
    event = http_event("POST", "/questions", raw_body=f'{{{QUESTION_FIELDS}, "lat": 1, "lat": 1, "lng": 2}}',
                       base64_body=True)
    _assert_rejected(post_question.handler(event, lambda_context), world, "request body repeats the key 'lat'")


def test_a_base64_body_that_is_not_utf8_is_rejected(world, lambda_context):
    event = http_event("POST", "/questions")
    event.update(body=base64.b64encode(b'{"text": "\xff\xfe"}').decode(), isBase64Encoded=True)
    _assert_rejected(post_question.handler(event, lambda_context), world, "request body must be UTF-8")


def test_text_with_an_unpaired_surrogate_is_rejected_instead_of_poisoning_the_queue(world, lambda_context):
    raw = '{"text": "market \\ud800 open?", "type": "star", "lat": 1, "lng": 2}'
    _assert_rejected(post_question.handler(http_event("POST", "/questions", raw_body=raw), lambda_context),
                     world, "unpaired UTF-16 surrogate")


@pytest.mark.parametrize("field", ["lat", "lng"])
def test_a_boolean_coordinate_of_a_geo_answer_is_not_a_number(questions, lambda_context, field):
    body = {"questionId": GEO_QUESTION, "type": "geo", "lat": 1.0, "lng": 2.0, field: True}
    _assert_rejected(post_answer.handler(http_event("POST", "/answers", body=body), lambda_context), questions,
                     f"'{field}' must be a number")

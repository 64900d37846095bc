"""save_question and save_answer: batches of 10 from moto SQS, partial failures, duplicates, re-answers."""

from __future__ import annotations

import json
import uuid

import pygeohash
import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

from lambda_src.ask_around_me.aggregate_answers import handler as aggregate_answers
from lambda_src.ask_around_me.list_questions import logic as list_logic
from lambda_src.ask_around_me.save_answer import handler as save_answer
from lambda_src.ask_around_me.save_question import handler as save_question
from lambda_src.ask_around_me.save_question import logic as save_logic

from .conftest import ANSWERS_TABLE, QUESTIONS_TABLE, sqs_event, stream_event


def question_body(**overrides):
    return {"questionId": str(uuid.uuid4()), "type": "star", "text": "Good pizza here?", "lat": 40.7128,
            "lng": -74.006, "author": "alice", "created": "2030-01-01T12:00:00.000000Z", **overrides}


def answer_body(question_id, user, **overrides):
    return {"questionId": question_id, "userId": user, "type": "star", "rating": 3,
            "answeredAt": "2030-01-01T12:05:00.000000Z", **overrides}


def send(world, queue, bodies):
    for body in bodies:
        world.sqs.send_message(QueueUrl=world.queue_urls[queue],
                               MessageBody=body if isinstance(body, str) else json.dumps(body))


def failed_ids(result):
    return [failure["itemIdentifier"] for failure in result["batchItemFailures"]]


@pytest.fixture
def star_question(world, lambda_context):
    body = question_body()
    send(world, "Questions", [body])
    save_question.handler(sqs_event(world.receive("Questions")), lambda_context)
    return body["questionId"]


def test_one_bad_question_in_a_batch_of_ten_fails_alone_and_the_nine_others_are_saved(world, lambda_context):
    good = [question_body() for _ in range(9)]
    send(world, "Questions", good[:4] + [question_body(lat=123.0)] + good[4:])
    records = world.receive("Questions")
    assert len(records) == 10

    result = save_question.handler(sqs_event(records), lambda_context)

    bad = [r["messageId"] for r in records if json.loads(r["body"])["lat"] == 123.0]
    assert failed_ids(result) == bad
    assert all(world.question(body["questionId"]) is not None for body in good)


def test_a_question_message_that_is_not_json_fails_alone(world, lambda_context):
    send(world, "Questions", ["{oops", question_body()])
    records = world.receive("Questions")
    result = save_question.handler(sqs_event(records), lambda_context)
    assert failed_ids(result) == [r["messageId"] for r in records if r["body"] == "{oops"]


def test_a_saved_question_carries_its_geohash_and_index_cell_and_zeroed_summary(world, lambda_context):
    body = question_body(type="geo", lat=-33.8568, lng=151.2153)
    send(world, "Questions", [body])
    save_question.handler(sqs_event(world.receive("Questions")), lambda_context)
    item = world.question(body["questionId"])
    assert item["geohash"] == pygeohash.encode(-33.8568, 151.2153, precision=9)
    assert item["cell"] == item["geohash"][:4] == "r3gx"
    assert (item["answerCount"], item["heatmap"], item["state"]) == (0, {}, "open")


def test_a_question_inside_the_polar_cap_is_indexed_in_the_polar_partition(world, lambda_context):
    body = question_body(lat=-80.0, lng=20.0)
    send(world, "Questions", [body])
    save_question.handler(sqs_event(world.receive("Questions")), lambda_context)
    assert world.question(body["questionId"])["cell"] == "polar-south"


def test_a_search_reaching_the_polar_cap_queries_the_partition_questions_there_are_saved_in():
    item = save_logic.question_item(save_logic.parse_question_message(question_body(lat=80.0, lng=0.0)))
    assert item["cell"] in list_logic.covering_cells(79.99, 0.0)


def test_a_duplicate_question_delivery_does_not_reset_its_summary(world, lambda_context):
    body = question_body()
    send(world, "Questions", [body])
    save_question.handler(sqs_event(world.receive("Questions")), lambda_context)
    world.tables.Table(QUESTIONS_TABLE).update_item(Key={"questionId": body["questionId"]},
                                                    UpdateExpression="SET answerCount = :n, totalScore = :s",
                                                    ExpressionAttributeValues={":n": 3, ":s": 12})
    send(world, "Questions", [body])
    result = save_question.handler(sqs_event(world.receive("Questions")), lambda_context)
    assert result == {"batchItemFailures": []}
    assert (world.question(body["questionId"])["answerCount"], world.question(body["questionId"])["totalScore"]) \
        == (3, 12)


def test_one_bad_answer_in_a_batch_of_ten_fails_alone_and_the_nine_others_are_saved(world, star_question,
                                                                                    lambda_context):
    bodies = [answer_body(star_question, f"user-{i}", rating=i % 6) for i in range(9)]
    send(world, "StarAnswers", bodies[:7] + [answer_body(star_question, "user-bad", rating=9)] + bodies[7:])
    records = world.receive("StarAnswers")
    assert len(records) == 10

    result = save_answer.handler(sqs_event(records), lambda_context)

    assert failed_ids(result) == [r["messageId"] for r in records if json.loads(r["body"])["userId"] == "user-bad"]
    assert sorted(a["userId"] for a in world.answers(star_question)) == sorted(f"user-{i}" for i in range(9))


def test_a_duplicate_answer_delivery_does_not_double_count(world, star_question, lambda_context):
    body = answer_body(star_question, "bob", rating=4)
    send(world, "StarAnswers", [body, body])
    save_answer.handler(sqs_event(world.receive("StarAnswers")), lambda_context)
    send(world, "StarAnswers", [body])  # a redelivery in a later batch, too
    save_answer.handler(sqs_event(world.receive("StarAnswers")), lambda_context)
    aggregate_answers.handler(stream_event(world.stream_records(ANSWERS_TABLE)), lambda_context)

    assert len(world.answers(star_question)) == 1
    question = world.question(star_question)
    assert (question["answerCount"], question["totalScore"]) == (1, 4)


def test_a_re_answer_replaces_the_users_earlier_answer(world, star_question, lambda_context):
    send(world, "StarAnswers", [answer_body(star_question, "bob", rating=1)])
    save_answer.handler(sqs_event(world.receive("StarAnswers")), lambda_context)
    send(world, "StarAnswers", [answer_body(star_question, "bob", rating=5, answeredAt="2030-01-01T12:06:00.000000Z")])
    save_answer.handler(sqs_event(world.receive("StarAnswers")), lambda_context)
    assert [(a["userId"], a["rating"]) for a in world.answers(star_question)] == [("bob", 5)]


def test_an_older_answer_delivered_late_does_not_replace_a_newer_one(world, star_question, lambda_context):
    send(world, "StarAnswers", [answer_body(star_question, "bob", rating=5, answeredAt="2030-01-01T12:06:00.000000Z")])
    save_answer.handler(sqs_event(world.receive("StarAnswers")), lambda_context)
    send(world, "StarAnswers", [answer_body(star_question, "bob", rating=1)])
    result = save_answer.handler(sqs_event(world.receive("StarAnswers")), lambda_context)
    assert result == {"batchItemFailures": []}
    assert [a["rating"] for a in world.answers(star_question)] == [5]


def test_a_geo_answer_is_stored_with_its_precision_6_heat_map_cell(world, lambda_context):
    body = question_body(type="geo")
    send(world, "Questions", [body])
    save_question.handler(sqs_event(world.receive("Questions")), lambda_context)
    send(world, "GeoAnswers", [answer_body(body["questionId"], "bob", type="geo", lat=40.7306, lng=-73.9352)])
    save_answer.handler(sqs_event(world.receive("GeoAnswers")), lambda_context)
    assert world.answers(body["questionId"])[0]["cell"] == pygeohash.encode(40.7306, -73.9352, precision=6)


def test_an_answer_of_the_wrong_type_for_its_question_fails_alone(world, star_question, lambda_context):
    send(world, "GeoAnswers", [answer_body(star_question, "bob", type="geo", lat=1.0, lng=2.0),
                               answer_body(star_question, "carol")])
    records = world.receive("GeoAnswers")
    result = save_answer.handler(sqs_event(records), lambda_context)
    assert failed_ids(result) == [r["messageId"] for r in records if json.loads(r["body"])["userId"] == "bob"]
    assert [a["userId"] for a in world.answers(star_question)] == ["carol"]


def test_an_answer_to_a_question_not_yet_saved_fails_so_that_it_is_retried(world, lambda_context):
    send(world, "StarAnswers", [answer_body(str(uuid.uuid4()), "bob")])
    records = world.receive("StarAnswers")
    with pytest.raises(BatchProcessingError, match=r"All records failed processing(.|\n)*QuestionNotFound"):
        save_answer.handler(sqs_event(records), lambda_context)


@pytest.mark.parametrize("lat", [10 ** 400, -(10 ** 400), float("nan"), float("inf"), True],
                         ids=["huge", "huge-negative", "nan", "infinite", "bool"])
def test_a_queued_question_with_an_impossible_latitude_is_a_poison_record(lat):
    with pytest.raises(save_logic.PoisonRecord, match="lat out of range"):
        save_logic.parse_question_message(question_body(lat=lat))

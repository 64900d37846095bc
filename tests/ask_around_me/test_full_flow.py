"""The whole Ask Around Me flow on moto: HTTP -> SQS -> tables -> streams -> aggregation -> IoT."""

from __future__ import annotations

import json

import pygeohash
import pytest

from lambda_src.ask_around_me.aggregate_answers import handler as aggregate_answers
from lambda_src.ask_around_me.delete_answer import handler as delete_answer
from lambda_src.ask_around_me.get_answers import handler as get_answers
from lambda_src.ask_around_me.get_heatmap import handler as get_heatmap
from lambda_src.ask_around_me.list_questions import handler as list_questions
from lambda_src.ask_around_me.post_answer import handler as post_answer
from lambda_src.ask_around_me.post_question import handler as post_question
from lambda_src.ask_around_me.publish_updates import handler as publish_updates
from lambda_src.ask_around_me.save_answer import handler as save_answer
from lambda_src.ask_around_me.save_question import handler as save_question

from .conftest import ANSWERS_TABLE, QUESTIONS_TABLE, http_event, sqs_event, stream_event

PARK = (47.6205, -122.3493)  # the asker's position
CAFE = (47.6097, -122.3422)  # where a geo answer points


def _post(handler, route, body, user, lambda_context):
    response = handler.handler(http_event("POST", route, body=body, user=user), lambda_context)
    assert response["statusCode"] == 202, response
    return json.loads(response["body"])


def _drain_queue(world, queue, consumer, lambda_context):
    result = consumer.handler(sqs_event(world.receive(queue)), lambda_context)
    assert result == {"batchItemFailures": []}


def _pump_streams(world, lambda_context):
    """Answers stream -> aggregation, then Questions stream -> publishing."""
    answers = world.stream_records(ANSWERS_TABLE)
    if answers:
        assert aggregate_answers.handler(stream_event(answers), lambda_context) == {"batchItemFailures": []}
    questions = world.stream_records(QUESTIONS_TABLE)
    if questions:
        assert publish_updates.handler(stream_event(questions), lambda_context) == {"batchItemFailures": []}


@pytest.fixture
def asked(world, lambda_context):
    """Alice asks a star question and a geo question at the park; both are saved and published."""
    star = _post(post_question, "/questions",
                 {"text": "How relaxing is the park?", "type": "star", "lat": PARK[0], "lng": PARK[1]},
                 "alice", lambda_context)["questionId"]
    geo = _post(post_question, "/questions",
                {"text": "Where is the best coffee?", "type": "geo", "lat": PARK[0], "lng": PARK[1]},
                "alice", lambda_context)["questionId"]
    _drain_queue(world, "Questions", save_question, lambda_context)
    _pump_streams(world, lambda_context)
    return star, geo


def test_posted_questions_are_saved_with_their_index_cell_and_published_to_their_geohash_topic(world, asked):
    star, geo = asked
    item = world.question(star)
    assert item["cell"] == pygeohash.encode(*PARK, precision=4)
    assert item["geohash"] == pygeohash.encode(*PARK, precision=9)
    assert (item["answerCount"], item["totalScore"], item["author"]) == (0, 0, "alice")
    topic = f"askaroundme/geo/{pygeohash.encode(*PARK, precision=5)}"
    published = world.published()
    assert [t for t, _ in published] == [topic, topic]
    assert {p["questionId"]: (p["type"], p["text"], p["author"]) for _, p in published} == {
        star: ("star", "How relaxing is the park?", "alice"),
        geo: ("geo", "Where is the best coffee?", "alice"),
    }


def test_answers_flow_through_queues_streams_and_aggregation_to_question_topics(world, asked, lambda_context):
    star, geo = asked
    before = len(world.published())
    _post(post_answer, "/answers", {"questionId": star, "type": "star", "rating": 4}, "bob", lambda_context)
    _post(post_answer, "/answers", {"questionId": star, "type": "star", "rating": 1}, "carol", lambda_context)
    _post(post_answer, "/answers", {"questionId": geo, "type": "geo", "lat": CAFE[0], "lng": CAFE[1]}, "bob",
          lambda_context)
    assert (world.queue_depth("StarAnswers"), world.queue_depth("GeoAnswers")) == (2, 1)
    _drain_queue(world, "StarAnswers", save_answer, lambda_context)
    _drain_queue(world, "GeoAnswers", save_answer, lambda_context)
    _pump_streams(world, lambda_context)

    assert (world.question(star)["answerCount"], world.question(star)["totalScore"]) == (2, 5)
    cafe_cell = pygeohash.encode(*CAFE, precision=6)
    assert world.question(geo)["heatmap"] == {cafe_cell: 1}
    updates = world.published()[before:]
    assert (f"askaroundme/questions/{geo}",
            {"event": "question.summary", "questionId": geo, "type": "geo", "answerCount": 1, "avgScore": 0,
             "cells": {cafe_cell: 1}, "seq": updates[-1][1]["seq"]}) in updates
    star_updates = [p for t, p in updates if t == f"askaroundme/questions/{star}"]
    assert [(p["answerCount"], p["avgScore"]) for p in star_updates] == [(1, 4.0), (2, 2.5)]


def test_a_re_answer_and_a_deletion_update_the_summary_and_are_published(world, asked, lambda_context):
    star, geo = asked
    for user, rating in (("bob", 4), ("carol", 2)):
        _post(post_answer, "/answers", {"questionId": star, "type": "star", "rating": rating}, user, lambda_context)
    _drain_queue(world, "StarAnswers", save_answer, lambda_context)
    _pump_streams(world, lambda_context)

    _post(post_answer, "/answers", {"questionId": star, "type": "star", "rating": 0}, "bob", lambda_context)
    _drain_queue(world, "StarAnswers", save_answer, lambda_context)
    response = delete_answer.handler(http_event("DELETE", "/answers/{questionId}", user="carol",
                                                path={"questionId": star}), lambda_context)
    assert response["statusCode"] == 204
    _pump_streams(world, lambda_context)

    assert (world.question(star)["answerCount"], world.question(star)["totalScore"]) == (1, 0)
    last = [p for t, p in world.published() if t == f"askaroundme/questions/{star}"][-1]
    assert (last["answerCount"], last["avgScore"]) == (1, 0)


def test_the_question_list_heat_map_and_answers_reflect_the_aggregated_answers(world, asked, lambda_context):
    star, geo = asked
    _post(post_answer, "/answers", {"questionId": star, "type": "star", "rating": 5}, "bob", lambda_context)
    _post(post_answer, "/answers", {"questionId": geo, "type": "geo", "lat": CAFE[0], "lng": CAFE[1]}, "bob",
          lambda_context)
    _post(post_answer, "/answers", {"questionId": geo, "type": "geo", "lat": CAFE[0], "lng": CAFE[1]}, "carol",
          lambda_context)
    _drain_queue(world, "StarAnswers", save_answer, lambda_context)
    _drain_queue(world, "GeoAnswers", save_answer, lambda_context)
    _pump_streams(world, lambda_context)

    listed = json.loads(list_questions.handler(
        http_event("GET", "/questions", query={"lat": str(CAFE[0]), "lng": str(CAFE[1])}), lambda_context)["body"])
    by_id = {q["questionId"]: q for q in listed["questions"]}
    assert (by_id[star]["answerCount"], by_id[star]["avgScore"]) == (1, 5.0)
    assert (by_id[geo]["answerCount"], by_id[geo]["avgScore"]) == (2, 0)
    assert 1_200 < by_id[star]["distanceMeters"] < 1_400

    heatmap = json.loads(get_heatmap.handler(http_event("GET", "/questions/{id}/heatmap", path={"id": geo}),
                                             lambda_context)["body"])
    assert [(c["geohash"], c["count"]) for c in heatmap["cells"]] == [(pygeohash.encode(*CAFE, precision=6), 2)]

    answers = json.loads(get_answers.handler(http_event("GET", "/questions/{id}/answers", user="bob",
                                                        path={"id": star}), lambda_context)["body"])
    assert answers["answers"] == [{"type": "star", "answeredAt": answers["answers"][0]["answeredAt"],
                                   "mine": True, "rating": 5}]

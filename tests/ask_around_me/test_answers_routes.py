"""DELETE /answers/{questionId} and GET /questions/{id}/answers against moto."""

from __future__ import annotations

import json
import uuid

import pytest

from lambda_src.ask_around_me.aggregate_answers import handler as aggregate_answers
from lambda_src.ask_around_me.delete_answer import handler as delete_answer
from lambda_src.ask_around_me.get_answers import handler as get_answers

from .conftest import ANSWERS_TABLE, QUESTIONS_TABLE, http_event, stream_event


@pytest.fixture
def answered(world, lambda_context):
    """A star question answered by alice (2) and bob (5), aggregated."""
    question_id = str(uuid.uuid4())
    world.tables.Table(QUESTIONS_TABLE).put_item(
        Item={"questionId": question_id, "type": "star", "answerCount": 0, "totalScore": 0})
    for user, rating in (("alice", 2), ("bob", 5)):
        world.tables.Table(ANSWERS_TABLE).put_item(Item={
            "questionId": question_id, "userId": user, "type": "star", "rating": rating,
            "answeredAt": "2030-01-01T00:00:00.000000Z"})
    aggregate_answers.handler(stream_event(world.stream_records(ANSWERS_TABLE)), lambda_context)
    return question_id


def _delete(question_id, user, lambda_context):
    return delete_answer.handler(http_event("DELETE", "/answers/{questionId}", user=user,
                                            path={"questionId": question_id}), lambda_context)


def test_a_user_deletes_their_own_answer_and_the_summary_follows(world, answered, lambda_context):
    assert _delete(answered, "bob", lambda_context)["statusCode"] == 204
    aggregate_answers.handler(stream_event(world.stream_records(ANSWERS_TABLE)), lambda_context)
    assert [a["userId"] for a in world.answers(answered)] == ["alice"]
    assert (world.question(answered)["answerCount"], world.question(answered)["totalScore"]) == (1, 2)


def test_a_user_cannot_delete_another_users_answer(world, answered, lambda_context):
    event = http_event("DELETE", "/answers/{questionId}", user="mallory", path={"questionId": answered},
                       body={"userId": "bob"}, query={"userId": "bob"})
    response = delete_answer.handler(event, lambda_context)
    assert response["statusCode"] == 404
    assert sorted(a["userId"] for a in world.answers(answered)) == ["alice", "bob"]
    assert world.stream_records(ANSWERS_TABLE) == []


def test_deleting_an_answer_twice_is_not_found_the_second_time(world, answered, lambda_context):
    assert _delete(answered, "alice", lambda_context)["statusCode"] == 204
    assert _delete(answered, "alice", lambda_context)["statusCode"] == 404


def test_the_answers_hide_other_users_ids_and_flag_the_callers_own(world, answered, lambda_context):
    response = get_answers.handler(http_event("GET", "/questions/{id}/answers", user="bob", path={"id": answered}),
                                   lambda_context)
    body = json.loads(response["body"])
    assert sorted((a["rating"], a["mine"]) for a in body["answers"]) == [(2, False), (5, True)]
    assert all("userId" not in a for a in body["answers"])


def test_the_answers_come_a_page_at_a_time_with_a_token_for_the_next(world, answered, lambda_context, monkeypatch):
    monkeypatch.setenv("ANSWERS_PAGE_SIZE", "1")
    first = json.loads(get_answers.handler(
        http_event("GET", "/questions/{id}/answers", path={"id": answered}), lambda_context)["body"])
    second = json.loads(get_answers.handler(
        http_event("GET", "/questions/{id}/answers", path={"id": answered}, query={"nextToken": first["nextToken"]}),
        lambda_context)["body"])
    assert sorted([first["answers"][0]["rating"], second["answers"][0]["rating"]]) == [2, 5]


def test_the_answers_of_an_unknown_question_are_not_found(world, lambda_context):
    unknown = str(uuid.uuid4())
    response = get_answers.handler(http_event("GET", "/questions/{id}/answers", path={"id": unknown}), lambda_context)
    assert response["statusCode"] == 404
    assert json.loads(response["body"]) == {"message": f"question {unknown} not found"}


def test_a_question_without_answers_has_an_empty_list_of_answers(world, lambda_context):
    question_id = str(uuid.uuid4())
    world.tables.Table(QUESTIONS_TABLE).put_item(
        Item={"questionId": question_id, "type": "geo", "answerCount": 0, "heatmap": {}})
    response = get_answers.handler(http_event("GET", "/questions/{id}/answers", path={"id": question_id}),
                                   lambda_context)
    assert (response["statusCode"], json.loads(response["body"])) == (200, {"questionId": question_id, "answers": []})

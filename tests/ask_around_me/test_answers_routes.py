"""DELETE /answers/{questionId} and GET /questions/{id}/answers against moto."""

from __future__ import annotations

import base64
import json
import re
import uuid

import pytest

from lambda_src.ask_around_me.aggregate_answers import handler as aggregate_answers
from lambda_src.ask_around_me.delete_answer import handler as delete_answer
from lambda_src.ask_around_me.get_answers import handler as get_answers
from lambda_src.ask_around_me.get_answers.logic import PAGE_TOKEN_TTL_SECONDS

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


# -- page tokens: opaque, bound to their question ---------------------------------------------

INVALID_TOKEN = {"message": "Invalid page token"}


def _page(question_id, lambda_context, token=None, user="alice"):
    response = get_answers.handler(http_event("GET", "/questions/{id}/answers", user=user, path={"id": question_id},
                                              query=None if token is None else {"nextToken": token}),
                                   lambda_context)
    return response["statusCode"], json.loads(response["body"])


def _answered_question(world, lambda_context, *users):
    question_id = str(uuid.uuid4())
    world.tables.Table(QUESTIONS_TABLE).put_item(
        Item={"questionId": question_id, "type": "star", "answerCount": 0, "totalScore": 0})
    for user in users:
        world.tables.Table(ANSWERS_TABLE).put_item(Item={
            "questionId": question_id, "userId": user, "type": "star", "rating": 4,
            "answeredAt": "2030-01-01T00:00:00.000000Z"})
    return question_id


@pytest.fixture
def first_page_token(answered, lambda_context, monkeypatch):
    monkeypatch.setenv("ANSWERS_PAGE_SIZE", "1")
    status, body = _page(answered, lambda_context)
    assert status == 200 and "nextToken" in body
    return body["nextToken"]


def _unpadded_b64decode(token: str) -> bytes:
    return base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))


def test_a_page_token_discloses_no_user_id(first_page_token):
    decoded = _unpadded_b64decode(first_page_token)
    for user in ("alice", "bob"):
        assert user not in first_page_token and user.encode() not in decoded
    with pytest.raises(ValueError, match="Expecting value|codec can't decode"):
        json.loads(decoded)


def test_a_page_token_is_url_safe_base64_without_padding(first_page_token):
    assert re.fullmatch(r"[A-Za-z0-9_-]+", first_page_token)


def test_following_the_tokens_reads_every_answer_once_and_ends_without_a_token(world, answered, first_page_token,
                                                                               lambda_context):
    seen, token = [], first_page_token
    while token is not None:
        status, page = _page(answered, lambda_context, token)
        assert status == 200 and len(page["answers"]) <= 1
        seen += [answer["rating"] for answer in page["answers"]]
        token = page.get("nextToken")
    first = _page(answered, lambda_context)[1]["answers"][0]["rating"]
    assert sorted([first, *seen]) == [2, 5]


def test_a_page_token_of_another_question_is_invalid(world, answered, first_page_token, lambda_context):
    other = _answered_question(world, lambda_context, "carol", "dave")
    assert _page(other, lambda_context, first_page_token) == (400, INVALID_TOKEN)


def _changed_at(token: str, index: int) -> str:
    return token[:index] + ("A" if token[index] != "A" else "B") + token[index + 1:]


# moto's blob starts with the key id in clear (the first 48 characters of the token); altering
# those, moto answers AccessDeniedException where KMS answers InvalidCiphertextException, so the
# tampering cases change the nonce, the tag and the ciphertext instead.
@pytest.mark.parametrize("damage", [
    lambda token: token[:-6],
    lambda token: token[:12],
    lambda token: _changed_at(token, 50),
    lambda token: _changed_at(token, 70),
    lambda token: _changed_at(token, len(token) - 3),
    lambda token: token + "AAAA",
], ids=["truncated", "cut-to-its-start", "nonce-changed", "tag-changed", "ciphertext-changed", "extended"])
def test_a_damaged_page_token_is_invalid(answered, first_page_token, lambda_context, damage):
    assert _page(answered, lambda_context, damage(first_page_token)) == (400, INVALID_TOKEN)


@pytest.mark.parametrize("token", [
    "%%%",
    "not base64!",
    "A" * 9000,
    base64.urlsafe_b64encode(b"\xff" * 80).decode().rstrip("="),
    base64.urlsafe_b64encode(json.dumps({"u": "bob"}).encode()).decode(),
    "A",
], ids=["not-base64", "spaces-and-punctuation", "oversized", "garbage-bytes", "old-plaintext-format", "one-char"])
def test_a_page_token_this_api_did_not_issue_is_invalid(answered, lambda_context, token):
    assert _page(answered, lambda_context, token) == (400, INVALID_TOKEN)


def test_a_token_encrypted_for_the_question_but_not_by_this_api_is_invalid(world, answered, lambda_context):
    # The right key and context but a plaintext of another shape: only get_answers may encrypt
    # with the key, so this stands for a bug in an earlier version of the token format.
    blob = world.kms.encrypt(KeyId=world.page_token_key_arn, Plaintext=b'["bob"]',
                             EncryptionContext={"questionId": answered, "purpose": "answers-page"})["CiphertextBlob"]
    token = base64.urlsafe_b64encode(blob).decode().rstrip("=")
    assert _page(answered, lambda_context, token) == (400, INVALID_TOKEN)


def _token_for(world, question_id: str, plaintext: dict) -> str:
    blob = world.kms.encrypt(KeyId=world.page_token_key_arn, Plaintext=json.dumps(plaintext).encode(),
                             EncryptionContext={"questionId": question_id, "purpose": "answers-page"})["CiphertextBlob"]
    return base64.urlsafe_b64encode(blob).decode().rstrip("=")


def test_a_page_token_is_refused_once_its_hour_is_over(answered, first_page_token, lambda_context, monkeypatch):
    issued = get_answers.time.time()
    monkeypatch.setattr(get_answers.time, "time", lambda: issued + PAGE_TOKEN_TTL_SECONDS + 1)
    assert _page(answered, lambda_context, first_page_token) == (
        400, {"message": "Expired page token: start again from the first page"})


def test_a_page_token_is_accepted_until_its_hour_is_over(answered, first_page_token, lambda_context, monkeypatch):
    issued = get_answers.time.time()
    monkeypatch.setattr(get_answers.time, "time", lambda: issued + PAGE_TOKEN_TTL_SECONDS - 5)
    assert _page(answered, lambda_context, first_page_token)[0] == 200


@pytest.mark.parametrize("plaintext", [
    {"u": "bob"}, {"u": "bob", "e": "9999999999"}, {"u": "bob", "e": True}, {"u": "bob", "e": 1e30},
    {"u": "bob", "e": 9999999999, "x": 1}, {"e": 9999999999}])
def test_a_token_whose_expiry_is_missing_or_malformed_is_invalid(world, answered, lambda_context, plaintext):
    assert _page(answered, lambda_context, _token_for(world, answered, plaintext)) == (400, INVALID_TOKEN)

"""A service the routes depend on that is slow, unreachable, throttled or failing: every client
gives up in time, and the caller gets 503 with a message to try again, never a hung or crashed
invocation; a refused request (a bug) still fails loudly."""
from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError, ConnectTimeoutError, ReadTimeoutError
from botocore.stub import Stubber

from lambda_src.ask_around_me.get_answers import handler as get_answers
from lambda_src.ask_around_me.list_questions import handler as list_questions
from lambda_src.ask_around_me.post_answer import handler as post_answer
from lambda_src.ask_around_me.post_question import handler as post_question
from lambda_src.ask_around_me.publish_updates import handler as publish_updates
from lambda_src.ask_around_me.shared import aws
from lambda_src.ask_around_me.shared.handlers import UNAVAILABLE_MESSAGE

from .conftest import IOT_ENDPOINT, http_event

FUNCTION_TIMEOUT_S = 10
QUESTION = {"text": "Is the market open?", "type": "star", "lat": 51.5, "lng": -0.12}


def _worst_case_s(client) -> float:
    config = client.meta.config
    return config.retries["total_max_attempts"] * (config.connect_timeout + config.read_timeout)


@pytest.mark.parametrize("client", [
    aws.dynamodb.meta.client, post_question.sqs, post_answer.sqs, get_answers.kms,
    publish_updates._iot_data(IOT_ENDPOINT)], ids=["dynamodb", "sqs-questions", "sqs-answers", "kms", "iot-data"])
def test_every_client_gives_up_well_inside_the_functions_timeout(client):
    assert _worst_case_s(client) + 1 < FUNCTION_TIMEOUT_S  # a second for the standard mode's backoff


def _body(response) -> dict:
    return json.loads(response["body"])


@pytest.mark.parametrize("failure", [
    ConnectTimeoutError(endpoint_url="https://sqs.us-east-1.amazonaws.com"),
    ReadTimeoutError(endpoint_url="https://sqs.us-east-1.amazonaws.com"),
], ids=["connect-timeout", "read-timeout"])
def test_an_unreachable_queue_gets_503_and_a_message(world, lambda_context, monkeypatch, failure):
    def fail(**_):
        raise failure

    monkeypatch.setattr(post_question.sqs, "send_message", fail)
    response = post_question.handler(http_event("POST", "/questions", body=QUESTION), lambda_context)
    assert (response["statusCode"], _body(response)) == (503, {"message": UNAVAILABLE_MESSAGE})


@pytest.mark.parametrize(("code", "status"), [("ProvisionedThroughputExceededException", 400),
                                              ("ThrottlingException", 400), ("InternalServerError", 500)])
def test_a_throttled_or_failing_table_gets_503(world, lambda_context, code, status):
    with Stubber(aws.dynamodb.meta.client) as stub:
        for _ in range(9):  # one query per geohash cell around the caller
            stub.add_client_error("query", service_error_code=code, http_status_code=status)
        response = list_questions.handler(
            http_event("GET", "/questions", query={"lat": "51.5", "lng": "-0.12"}), lambda_context)
    assert (response["statusCode"], _body(response)["message"]) == (503, UNAVAILABLE_MESSAGE)


def test_a_request_the_service_refuses_is_a_bug_and_fails_the_invocation(world, lambda_context, monkeypatch):
    def refuse(**_):
        raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"},
                           "ResponseMetadata": {"HTTPStatusCode": 400}}, "SendMessage")

    monkeypatch.setattr(post_question.sqs, "send_message", refuse)
    with pytest.raises(ClientError, match="AccessDeniedException"):
        post_question.handler(http_event("POST", "/questions", body=QUESTION), lambda_context)

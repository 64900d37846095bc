"""The local event source mappings against moto: partial batch failures, retries, bisection,
the on-failure destination, as Lambda's pollers handle them."""
from __future__ import annotations

import json
import threading
from typing import Any

import boto3
import pytest
from moto import mock_aws

from local.apigw.rest_api_emulator import FunctionFailed
from local.pumps import SqsPump, StreamPump

REGION = "us-east-1"


class Function:
    """Records each batch; answers with ``respond(records)`` (or raises FunctionFailed)."""

    def __init__(self, respond) -> None:
        self.batches: list[list[dict[str, Any]]] = []
        self.respond = respond

    def __call__(self, event: dict[str, Any]) -> Any:
        self.batches.append(event["Records"])
        return self.respond(event["Records"])


@pytest.fixture
def aws():
    with mock_aws():
        yield boto3.session.Session(region_name=REGION)


# -- SQS -------------------------------------------------------------------------------------

@pytest.fixture
def queue(aws):
    sqs = aws.client("sqs")
    url = sqs.create_queue(QueueName="work", Attributes={"VisibilityTimeout": "0"})["QueueUrl"]
    for body in ("a", "b", "c"):
        sqs.send_message(QueueUrl=url, MessageBody=body)
    return sqs, url


def sqs_pump(queue, function, *, report_failures: bool = True) -> SqsPump:
    sqs, url = queue
    return SqsPump(sqs=sqs, queue_url=url, queue_arn=f"arn:aws:sqs:{REGION}:123456789012:work", invoke=function,
                   batch_size=10, report_failures=report_failures, stop=threading.Event(), name="test")


def bodies_left(queue) -> list[str]:
    sqs, url = queue
    received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    return sorted(message["Body"] for message in received)


def failing(*bodies: str):
    return lambda records: {"batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in records
                                                  if r["body"] in bodies]}


def test_the_consumer_gets_lambdas_sqs_record_shape(queue):
    function = Function(lambda records: None)
    sqs_pump(queue, function).poll_once()
    record = function.batches[0][0]
    assert record["eventSource"] == "aws:sqs" and record["eventSourceARN"].endswith(":work")
    assert {"messageId", "receiptHandle", "body", "attributes", "md5OfBody", "awsRegion"} <= set(record)


def test_reported_failures_stay_in_the_queue_and_the_rest_is_deleted(queue):
    sqs_pump(queue, Function(failing("b"))).poll_once()
    assert bodies_left(queue) == ["b"]


def test_a_failure_naming_a_message_not_in_the_batch_fails_the_whole_batch(queue):
    sqs_pump(queue, Function(lambda records: {"batchItemFailures": [{"itemIdentifier": "not-in-batch"}]})).poll_once()
    assert bodies_left(queue) == ["a", "b", "c"]


def test_a_function_error_leaves_every_message_in_the_queue(queue):
    def error(records):
        raise FunctionFailed("boom")

    sqs_pump(queue, Function(error)).poll_once()
    assert bodies_left(queue) == ["a", "b", "c"]


def test_failures_are_ignored_without_report_batch_item_failures(queue):
    sqs_pump(queue, Function(failing("b")), report_failures=False).poll_once()
    assert bodies_left(queue) == []


# -- DynamoDB Streams -------------------------------------------------------------------------

@pytest.fixture
def stream(aws):
    dynamodb = aws.client("dynamodb")
    table = dynamodb.create_table(
        TableName="items", BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})["TableDescription"]
    for key in ("r1", "r2", "r3", "r4"):
        dynamodb.put_item(TableName="items", Item={"id": {"S": key}})
    sqs = aws.client("sqs")
    failures = sqs.create_queue(QueueName="failures")["QueueUrl"]
    return aws, table["LatestStreamArn"], failures


def stream_pump(stream, function, *, bisect: bool = False, max_retries: int | None = 2) -> StreamPump:
    aws, arn, failures = stream
    return StreamPump(streams=aws.client("dynamodbstreams"), sqs=aws.client("sqs"), stream_arn=arn,
                      invoke=function, function_arn=f"arn:aws:lambda:{REGION}:123456789012:function:f",
                      batch_size=100, report_failures=True, bisect=bisect, max_retries=max_retries,
                      max_record_age=None, on_failure_url=failures, starting_position="TRIM_HORIZON",
                      stop=threading.Event(), name="test")


def keys(batch: list[dict[str, Any]]) -> list[str]:
    return [record["dynamodb"]["Keys"]["id"]["S"] for record in batch]


def test_a_partial_failure_is_retried_from_the_lowest_failed_sequence_number(stream):
    def fail_third_and_fourth(records):
        return {"batchItemFailures": [{"itemIdentifier": record["dynamodb"]["SequenceNumber"]}
                                      for record in reversed(records[2:])]}  # not in order

    answers = iter([fail_third_and_fourth, lambda records: None])
    function = Function(lambda records: next(answers)(records))
    stream_pump(stream, function).poll_once()
    assert [keys(batch) for batch in function.batches] == [["r1", "r2", "r3", "r4"], ["r3", "r4"]]


def test_a_function_error_halves_the_batch_when_bisecting(stream):
    def fail_while_r2_included(records):
        if "r2" in keys(records):
            raise FunctionFailed("r2 is poison")

    function = Function(fail_while_r2_included)
    stream_pump(stream, function, bisect=True, max_retries=0).poll_once()
    assert [keys(batch) for batch in function.batches][:3] == [["r1", "r2", "r3", "r4"], ["r1", "r2"], ["r1"]]
    assert ["r3", "r4"] in [keys(batch) for batch in function.batches]


def test_exhausted_retries_send_the_batch_description_to_the_on_failure_queue(stream):
    def error(records):
        raise FunctionFailed("always")

    function = Function(error)
    stream_pump(stream, function, max_retries=1).poll_once()
    aws, arn, failures = stream
    [message] = aws.client("sqs").receive_message(QueueUrl=failures).get("Messages", [])
    record = json.loads(message["Body"])
    assert len(function.batches) == 2  # the first attempt and one retry
    assert record["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert record["DDBStreamBatchInfo"]["batchSize"] == 4 and record["DDBStreamBatchInfo"]["streamArn"] == arn


def test_stream_records_reach_the_consumer_in_lambdas_shape(stream):
    function = Function(lambda records: None)
    stream_pump(stream, function).poll_once()
    record = function.batches[0][0]
    assert record["eventName"] == "INSERT" and record["eventSourceARN"] == stream[1]
    assert isinstance(record["dynamodb"]["ApproximateCreationDateTime"], int)
    assert record["dynamodb"]["NewImage"] == {"id": {"S": "r1"}}

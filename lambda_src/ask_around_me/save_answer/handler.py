"""SQS consumer of the StarAnswers and GeoAnswers queues: one answer per user per question.

A re-answer replaces the user's item; a message older than the stored answer
(out-of-order or duplicate delivery) changes nothing. A malformed message, or
one for a question of the other type, fails alone (partial batch failure); an
answer to a question not stored yet fails and is retried.
"""

from __future__ import annotations

import os
from functools import cache
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from botocore.exceptions import ClientError

from .logic import answer_item, check_question_type, parse_answer_message

processor = BatchProcessor(event_type=EventType.SQS)
logger = Logger()
tracer = Tracer()
metrics = Metrics()

dynamodb = boto3.resource("dynamodb")


@cache
def _table(name: str) -> Any:
    return dynamodb.Table(name)


class QuestionNotFound(LookupError):
    """Not stored (yet): the message is retried, then lands in the DLQ."""


@tracer.capture_method
def record_handler(record: SQSRecord) -> None:
    answer = parse_answer_message(record.json_body)  # raises: this record fails alone
    question = _table(os.environ["QUESTIONS_TABLE_NAME"]).get_item(
        Key={"questionId": answer.question_id}, ProjectionExpression="#t",
        ExpressionAttributeNames={"#t": "type"}).get("Item")
    if question is None:
        metrics.add_metric(name="AnswersToUnknownQuestions", unit=MetricUnit.Count, value=1)
        raise QuestionNotFound(f"question {answer.question_id} not found")
    check_question_type(answer, question["type"])

    answers = _table(os.environ["ANSWERS_TABLE_NAME"])
    try:
        answers.put_item(
            Item=answer_item(answer),
            ConditionExpression="attribute_not_exists(userId) OR answeredAt < :at",
            ExpressionAttributeValues={":at": answer.answered_at},
        )
    except ClientError as error:
        if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
        logger.info("stale or duplicate answer ignored",
                    extra={"questionId": answer.question_id, "answeredAt": answer.answered_at})
        metrics.add_metric(name="StaleAnswers", unit=MetricUnit.Count, value=1)
        return
    metrics.add_metric(name="AnswersSaved", unit=MetricUnit.Count, value=1)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    metrics.add_metric(name="RecordsReceived", unit=MetricUnit.Count, value=len(event.get("Records", [])))
    return process_partial_response(event=event, record_handler=record_handler, processor=processor,
                                    context=context)

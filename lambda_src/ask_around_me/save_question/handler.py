"""SQS consumer of the Questions queue: stores each question once.

Batches of 10 with partial batch failures: a malformed message fails alone.
A duplicate delivery finds the item already there and changes nothing (the
conditional put never resets summaries the aggregation has built up).
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

from .logic import parse_question_message, question_item

processor = BatchProcessor(event_type=EventType.SQS)
logger = Logger()
tracer = Tracer()
metrics = Metrics()

dynamodb = boto3.resource("dynamodb")


@cache
def _table(name: str) -> Any:
    return dynamodb.Table(name)


@tracer.capture_method
def record_handler(record: SQSRecord) -> None:
    question = parse_question_message(record.json_body)  # raises: this record fails alone
    table = _table(os.environ["QUESTIONS_TABLE_NAME"])
    try:
        table.put_item(Item=question_item(question), ConditionExpression="attribute_not_exists(questionId)")
    except ClientError as error:
        if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
        logger.info("duplicate question delivery ignored", extra={"questionId": question.question_id})
        metrics.add_metric(name="DuplicateQuestions", unit=MetricUnit.Count, value=1)
        return
    metrics.add_metric(name="QuestionsSaved", unit=MetricUnit.Count, value=1)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    metrics.add_metric(name="RecordsReceived", unit=MetricUnit.Count, value=len(event.get("Records", [])))
    return process_partial_response(event=event, record_handler=record_handler, processor=processor,
                                    context=context)

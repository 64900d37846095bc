"""DynamoDB stream consumer on the Answers table: keeps question summaries exact.

Star questions: answerCount and totalScore. Geo questions: answerCount and a
count per precision-6 geohash (``heatmap`` map). INSERT, MODIFY (including a
geo answer moving cell) and REMOVE are all handled through the per-answer
ledger (see logic.py): duplicated or replayed batches and retries are no-ops.
"""

from __future__ import annotations

import os
from datetime import datetime, timezone
from functools import cache
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord, DynamoDBRecordEventName
from botocore.exceptions import ClientError

from .logic import Step, ledger_condition, plan, summary_update

processor = BatchProcessor(event_type=EventType.DynamoDBStreams)
logger = Logger()
tracer = Tracer()
metrics = Metrics()

dynamodb = boto3.resource("dynamodb")


@cache
def _table(name: str) -> Any:
    return dynamodb.Table(name)


MAX_ATTEMPTS = 3  # optimistic-concurrency retries when another invocation moved the ledger


class QuestionMissing(LookupError):
    """An answer's question is not in the Questions table."""


class LedgerMoved(RuntimeError):
    """The ledger entry changed between our read and our conditional write."""


def _apply(step: Step, question_id: str) -> None:
    ledger_table = os.environ["AGGREGATION_LEDGER_TABLE_NAME"]
    condition = ledger_condition(step)
    if step.delta.is_zero:  # only the ledger moves (e.g. a tombstone, or an unchanged re-answer)
        try:
            _table(ledger_table).put_item(Item=step.ledger_item, **condition)
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise LedgerMoved() from error
            raise
        return
    try:
        dynamodb.meta.client.transact_write_items(TransactItems=[
            {"Put": {"TableName": ledger_table, "Item": step.ledger_item, **condition}},
            {"Update": {"TableName": os.environ["QUESTIONS_TABLE_NAME"], "Key": {"questionId": question_id},
                        **summary_update(step.delta)}},
        ])
    except ClientError as error:
        if error.response["Error"]["Code"] != "TransactionCanceledException":
            raise
        reasons = [r.get("Code") for r in error.response.get("CancellationReasons", [])]
        if reasons[:1] == ["ConditionalCheckFailed"]:
            raise LedgerMoved() from error
        if reasons[1:2] == ["ConditionalCheckFailed"]:
            raise QuestionMissing(f"question {question_id} not found") from error
        raise


@tracer.capture_method
def record_handler(record: DynamoDBRecord) -> None:
    keys = record.dynamodb.keys
    question_id, user_id = keys["questionId"], keys["userId"]
    removed = record.event_name == DynamoDBRecordEventName.REMOVE
    new_image = None if removed else record.dynamodb.new_image
    ledger = _table(os.environ["AGGREGATION_LEDGER_TABLE_NAME"])
    for _ in range(MAX_ATTEMPTS):
        entry = ledger.get_item(Key={"questionId": question_id, "userId": user_id}, ConsistentRead=True).get("Item")
        step = plan(question_id=question_id, user_id=user_id, sequence_number=record.dynamodb.sequence_number,
                    new_image=new_image, ledger=entry, now=datetime.now(timezone.utc))
        if step is None:
            metrics.add_metric(name="AlreadyAppliedRecords", unit=MetricUnit.Count, value=1)
            return
        try:
            _apply(step, question_id)
        except LedgerMoved:
            continue
        metrics.add_metric(name="AppliedRecords", unit=MetricUnit.Count, value=1)
        return
    raise LedgerMoved(f"ledger for {question_id}/{user_id} kept moving")


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    metrics.add_metric(name="RecordsReceived", unit=MetricUnit.Count, value=len(event.get("Records", [])))
    return process_partial_response(event=event, record_handler=record_handler, processor=processor,
                                    context=context)

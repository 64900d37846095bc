"""DynamoDB stream consumer on the Answers table: keeps question summaries exact.

Star questions: answerCount and totalScore. Geo questions: answerCount and a
count per precision-6 geohash (``heatmap`` map). INSERT, MODIFY (including a
geo answer moving cell) and REMOVE are all handled through the per-answer
ledger (see logic.py): duplicated or replayed batches and retries are no-ops.
"""

from __future__ import annotations

import os
from datetime import datetime, timezone

from aws_lambda_powertools.utilities.batch import EventType
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord, DynamoDBRecordEventName
from botocore.exceptions import ClientError

from ..shared import aws
from ..shared.handlers import batch_handler, count, tracer
from .logic import Step, ledger_condition, plan, summary_update

MAX_ATTEMPTS = 3  # optimistic-concurrency retries when another invocation moved the ledger


class QuestionMissing(LookupError):
    """An answer's question is not in the Questions table."""


class LedgerMoved(RuntimeError):
    """The ledger entry changed between our read and our conditional write."""


def _apply(step: Step, question_id: str) -> None:
    ledger_table = os.environ["AGGREGATION_LEDGER_TABLE_NAME"]
    condition = ledger_condition(step)
    if step.delta.is_zero:  # only the ledger moves (e.g. a tombstone, or an unchanged re-answer)
        if not aws.conditional_write(aws.table(ledger_table).put_item, Item=step.ledger_item, **condition):
            raise LedgerMoved()
        return
    try:
        aws.dynamodb.meta.client.transact_write_items(TransactItems=[
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
    ledger = aws.table(os.environ["AGGREGATION_LEDGER_TABLE_NAME"])
    for _ in range(MAX_ATTEMPTS):
        entry = ledger.get_item(Key={"questionId": question_id, "userId": user_id}, ConsistentRead=True).get("Item")
        step = plan(question_id=question_id, user_id=user_id, sequence_number=record.dynamodb.sequence_number,
                    new_image=new_image, ledger=entry, now=datetime.now(timezone.utc))
        if step is None:
            count("AlreadyAppliedRecords")
            return
        try:
            _apply(step, question_id)
        except LedgerMoved:
            continue
        count("AppliedRecords")
        return
    raise LedgerMoved(f"ledger for {question_id}/{user_id} kept moving")


handler = batch_handler(EventType.DynamoDBStreams, record_handler)

"""SQS consumer of the Questions queue: stores each question once.

Batches of 10 with partial batch failures: a malformed message fails alone.
A duplicate delivery finds the item already there and changes nothing (the
conditional put never resets summaries the aggregation has built up).
"""

from __future__ import annotations

import os

from aws_lambda_powertools.utilities.batch import EventType
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from ..shared import aws
from ..shared.handlers import batch_handler, count, logger, tracer
from .logic import parse_question_message, question_item


@tracer.capture_method
def record_handler(record: SQSRecord) -> None:
    question = parse_question_message(record.json_body)  # raises: this record fails alone
    table = aws.table(os.environ["QUESTIONS_TABLE_NAME"])
    if not aws.conditional_write(table.put_item, Item=question_item(question),
                                 ConditionExpression="attribute_not_exists(questionId)"):
        logger.info("duplicate question delivery ignored", extra={"questionId": question.question_id})
        count("DuplicateQuestions")
        return
    count("QuestionsSaved")


handler = batch_handler(EventType.SQS, record_handler)

"""SQS consumer of the StarAnswers and GeoAnswers queues: one answer per user per question.

A re-answer replaces the user's item; a message older than the stored answer
(out-of-order or duplicate delivery) changes nothing. A malformed message, or
one for a question of the other type, fails alone (partial batch failure); an
answer to a question not stored yet fails and is retried.
"""

from __future__ import annotations

import os

from aws_lambda_powertools.utilities.batch import EventType
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from ..shared import aws
from ..shared.handlers import batch_handler, count, logger, tracer
from .logic import answer_item, check_question_type, parse_answer_message


class QuestionNotFound(LookupError):
    """Not stored (yet): the message is retried, then lands in the DLQ."""


@tracer.capture_method
def record_handler(record: SQSRecord) -> None:
    answer = parse_answer_message(record.json_body)  # raises: this record fails alone
    question = aws.question(answer.question_id, "type")
    if question is None:
        count("AnswersToUnknownQuestions")
        raise QuestionNotFound(f"question {answer.question_id} not found")
    check_question_type(answer, question["type"])

    answers = aws.table(os.environ["ANSWERS_TABLE_NAME"])
    if not aws.conditional_write(answers.put_item, Item=answer_item(answer),
                                 ConditionExpression="attribute_not_exists(userId) OR answeredAt < :at",
                                 ExpressionAttributeValues={":at": answer.answered_at}):
        logger.info("stale or duplicate answer ignored",
                    extra={"questionId": answer.question_id, "answeredAt": answer.answered_at})
        count("StaleAnswers")
        return
    count("AnswersSaved")


handler = batch_handler(EventType.SQS, record_handler)

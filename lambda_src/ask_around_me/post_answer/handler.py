"""POST /answers: validate, check the question, queue on StarAnswers or GeoAnswers by type, 202."""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from functools import cache
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit

from .logic import (
    BadRequest,
    answer_message,
    caller_id,
    check_question,
    parse_new_answer,
    queue_env_var,
    read_json_object,
)

logger = Logger()
tracer = Tracer()
metrics = Metrics()

sqs = boto3.client("sqs")
dynamodb = boto3.resource("dynamodb")


@cache
def _table(name: str) -> Any:
    return dynamodb.Table(name)


def _response(status: int, body: Any) -> dict[str, Any]:
    return {"statusCode": status, "headers": {"content-type": "application/json"}, "body": json.dumps(body)}


@tracer.capture_method
def _question(question_id: str) -> dict[str, Any] | None:
    table = _table(os.environ["QUESTIONS_TABLE_NAME"])
    return table.get_item(Key={"questionId": question_id}, ProjectionExpression="#t",
                          ExpressionAttributeNames={"#t": "type"}).get("Item")


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    user_id = caller_id(event)
    if user_id is None:
        metrics.add_metric(name="Unauthorized", unit=MetricUnit.Count, value=1)
        return _response(401, {"message": "missing caller identity"})
    try:
        answer = parse_new_answer(read_json_object(event.get("body"), bool(event.get("isBase64Encoded"))))
        check_question(answer, _question(answer.question_id))
    except BadRequest as error:
        metrics.add_metric(name="RejectedRequests", unit=MetricUnit.Count, value=1)
        return _response(400, {"message": str(error)})
    except LookupError as error:
        metrics.add_metric(name="NotFound", unit=MetricUnit.Count, value=1)
        return _response(404, {"message": str(error)})

    message = answer_message(answer, user_id=user_id, answered_at=datetime.now(timezone.utc))
    sqs.send_message(QueueUrl=os.environ[queue_env_var(answer.type)], MessageBody=json.dumps(message))
    metrics.add_metric(name="AnswersAccepted", unit=MetricUnit.Count, value=1)
    return _response(202, {"questionId": answer.question_id, "answeredAt": message["answeredAt"]})

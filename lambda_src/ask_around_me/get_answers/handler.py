"""GET /questions/{id}/answers: the answers to a question, a page at a time."""

from __future__ import annotations

import json
import os
from functools import cache
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from boto3.dynamodb.conditions import Key

from .logic import BadRequest, answer_view, caller_id, next_token, question_id_of, start_key

logger = Logger()
tracer = Tracer()
metrics = Metrics()

dynamodb = boto3.resource("dynamodb")


@cache
def _table(name: str) -> Any:
    return dynamodb.Table(name)


def _response(status: int, body: Any) -> dict[str, Any]:
    return {"statusCode": status, "headers": {"content-type": "application/json"}, "body": json.dumps(body)}


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    caller = caller_id(event)
    if caller is None:
        metrics.add_metric(name="Unauthorized", unit=MetricUnit.Count, value=1)
        return _response(401, {"message": "missing caller identity"})
    try:
        question_id = question_id_of(event.get("pathParameters"))
        start = start_key(question_id, event.get("queryStringParameters"))
    except BadRequest as error:
        metrics.add_metric(name="RejectedRequests", unit=MetricUnit.Count, value=1)
        return _response(400, {"message": str(error)})

    request: dict[str, Any] = {"KeyConditionExpression": Key("questionId").eq(question_id),
                               "Limit": int(os.environ.get("ANSWERS_PAGE_SIZE", "500"))}
    if start:
        request["ExclusiveStartKey"] = start
    page = _table(os.environ["ANSWERS_TABLE_NAME"]).query(**request)
    body: dict[str, Any] = {"questionId": question_id,
                            "answers": [answer_view(item, caller) for item in page.get("Items", [])]}
    metrics.add_metric(name="AnswerPagesServed", unit=MetricUnit.Count, value=1)
    token = next_token(page.get("LastEvaluatedKey"))
    if token:
        body["nextToken"] = token
    return _response(200, body)

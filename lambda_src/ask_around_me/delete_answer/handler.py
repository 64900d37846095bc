"""DELETE /answers/{questionId}: removes the caller's own answer (204), or 404 if they have none.

The key's user id is the token's ``sub``: another user's answer is unreachable.
The stream's REMOVE record lets aggregate_answers take the answer out of the summary.
"""

from __future__ import annotations

import json
import os
from functools import cache
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from botocore.exceptions import ClientError

from .logic import BadRequest, answer_key, caller_id, question_id_of

logger = Logger()
tracer = Tracer()
metrics = Metrics()

dynamodb = boto3.resource("dynamodb")


@cache
def _table(name: str) -> Any:
    return dynamodb.Table(name)


def _response(status: int, body: Any = None) -> dict[str, Any]:
    response: dict[str, Any] = {"statusCode": status}
    if body is not None:
        response.update(headers={"content-type": "application/json"}, body=json.dumps(body))
    return response


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
    except BadRequest as error:
        metrics.add_metric(name="RejectedRequests", unit=MetricUnit.Count, value=1)
        return _response(400, {"message": str(error)})
    try:
        _table(os.environ["ANSWERS_TABLE_NAME"]).delete_item(
            Key=answer_key(question_id, caller), ConditionExpression="attribute_exists(userId)")
    except ClientError as error:
        if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
        metrics.add_metric(name="NotFound", unit=MetricUnit.Count, value=1)
        return _response(404, {"message": f"you have no answer to question {question_id}"})
    metrics.add_metric(name="AnswersDeleted", unit=MetricUnit.Count, value=1)
    return _response(204)

"""GET /questions/{id}/heatmap: the per-geohash answer counts of a geo question."""

from __future__ import annotations

import json
import os
from functools import cache
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit

from .logic import BadRequest, heatmap_view, question_id_of

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
    try:
        question_id = question_id_of(event.get("pathParameters"))
    except BadRequest as error:
        metrics.add_metric(name="RejectedRequests", unit=MetricUnit.Count, value=1)
        return _response(400, {"message": str(error)})
    question = _table(os.environ["QUESTIONS_TABLE_NAME"]).get_item(
        Key={"questionId": question_id},
        ProjectionExpression="questionId, #t, answerCount, heatmap",
        ExpressionAttributeNames={"#t": "type"},
    ).get("Item")
    if question is None:
        metrics.add_metric(name="NotFound", unit=MetricUnit.Count, value=1)
        return _response(404, {"message": f"question {question_id} not found"})
    try:
        view = heatmap_view(question)
    except BadRequest as error:
        metrics.add_metric(name="RejectedRequests", unit=MetricUnit.Count, value=1)
        return _response(400, {"message": str(error)})
    metrics.add_metric(name="HeatmapsServed", unit=MetricUnit.Count, value=1)
    return _response(200, view)

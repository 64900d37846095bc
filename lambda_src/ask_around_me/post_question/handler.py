"""POST /questions: validate, put on the Questions queue, answer 202 with the new id."""

from __future__ import annotations

import json
import os
import uuid
from datetime import datetime, timezone
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit

from .logic import BadRequest, caller_id, parse_new_question, question_message, read_json_object

logger = Logger()
tracer = Tracer()
metrics = Metrics()

sqs = boto3.client("sqs")


def _response(status: int, body: Any) -> dict[str, Any]:
    return {"statusCode": status, "headers": {"content-type": "application/json"}, "body": json.dumps(body)}


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    author = caller_id(event)
    if author is None:
        metrics.add_metric(name="Unauthorized", unit=MetricUnit.Count, value=1)
        return _response(401, {"message": "missing caller identity"})
    try:
        question = parse_new_question(read_json_object(event.get("body"), bool(event.get("isBase64Encoded"))))
    except BadRequest as error:
        metrics.add_metric(name="RejectedRequests", unit=MetricUnit.Count, value=1)
        return _response(400, {"message": str(error)})

    question_id = str(uuid.uuid4())
    message = question_message(question, question_id=question_id, author=author, created=datetime.now(timezone.utc))
    sqs.send_message(QueueUrl=os.environ["QUESTIONS_QUEUE_URL"], MessageBody=json.dumps(message))
    metrics.add_metric(name="QuestionsAccepted", unit=MetricUnit.Count, value=1)
    return _response(202, {"questionId": question_id, "created": message["created"]})

"""GET /questions/{id}/answers: the answers to a question, a page at a time."""

from __future__ import annotations

import os
from typing import Any

from boto3.dynamodb.conditions import Key

from ..shared import aws
from ..shared.handlers import count, http_handler
from ..shared.http import NotFound, json_response, question_id_of, require_caller
from .logic import answer_view, next_token, start_key


@http_handler
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    caller = require_caller(event)
    question_id = question_id_of(event.get("pathParameters"), "id")
    start = start_key(question_id, event.get("queryStringParameters"))
    if aws.question(question_id) is None:
        raise NotFound(f"question {question_id} not found")

    request: dict[str, Any] = {"KeyConditionExpression": Key("questionId").eq(question_id),
                               "Limit": int(os.environ.get("ANSWERS_PAGE_SIZE", "500"))}
    if start:
        request["ExclusiveStartKey"] = start
    page = aws.table(os.environ["ANSWERS_TABLE_NAME"]).query(**request)
    body: dict[str, Any] = {"questionId": question_id,
                            "answers": [answer_view(item, caller) for item in page.get("Items", [])]}
    count("AnswerPagesServed")
    token = next_token(page.get("LastEvaluatedKey"))
    if token:
        body["nextToken"] = token
    return json_response(200, body)

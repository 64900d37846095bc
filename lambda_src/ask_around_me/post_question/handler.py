"""POST /questions: validate, put on the Questions queue, answer 202 with the new id."""

from __future__ import annotations

import json
import os
import uuid
from datetime import datetime, timezone
from typing import Any

from ..shared import aws
from ..shared.handlers import count, http_handler
from ..shared.http import json_response, read_json_object, require_caller
from .logic import parse_new_question, question_message

sqs = aws.client("sqs")


@http_handler
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    author = require_caller(event)
    question = parse_new_question(read_json_object(event))

    question_id = str(uuid.uuid4())
    message = question_message(question, question_id=question_id, author=author, created=datetime.now(timezone.utc))
    sqs.send_message(QueueUrl=os.environ["QUESTIONS_QUEUE_URL"], MessageBody=json.dumps(message))
    count("QuestionsAccepted")
    return json_response(202, {"questionId": question_id, "created": message["created"]})

"""POST /answers: validate, check the question, queue on StarAnswers or GeoAnswers by type, 202."""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from typing import Any

from ..shared import aws
from ..shared.handlers import count, http_handler
from ..shared.http import json_response, read_json_object, require_caller
from .logic import answer_message, check_question, parse_new_answer, queue_env_var

sqs = aws.client("sqs")


@http_handler
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    user_id = require_caller(event)
    answer = parse_new_answer(read_json_object(event))
    check_question(answer, aws.question(answer.question_id, "type"))

    message = answer_message(answer, user_id=user_id, answered_at=datetime.now(timezone.utc))
    sqs.send_message(QueueUrl=os.environ[queue_env_var(answer.type)], MessageBody=json.dumps(message))
    count("AnswersAccepted")
    return json_response(202, {"questionId": answer.question_id, "answeredAt": message["answeredAt"]})

"""DELETE /answers/{questionId}: removes the caller's own answer (204), or 404 if they have none.

The key's user id is the token's ``sub``: another user's answer is unreachable.
The stream's REMOVE record lets aggregate_answers take the answer out of the summary.
"""

from __future__ import annotations

import os
from typing import Any

from ..shared import aws
from ..shared.handlers import count, http_handler
from ..shared.http import NotFound, json_response, question_id_of, require_caller
from .logic import answer_key


@http_handler
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    caller = require_caller(event)
    question_id = question_id_of(event.get("pathParameters"), "questionId")
    table = aws.table(os.environ["ANSWERS_TABLE_NAME"])
    if not aws.conditional_write(table.delete_item, Key=answer_key(question_id, caller),
                                 ConditionExpression="attribute_exists(userId)"):
        raise NotFound(f"you have no answer to question {question_id}")
    count("AnswersDeleted")
    return json_response(204)

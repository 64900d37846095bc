"""boto3 for the handlers: one DynamoDB resource per process, tables by name, conditional writes.

Created at import, so during the function's init phase. Handlers only: ``logic`` modules
never import boto3.
"""

from __future__ import annotations

import os
from functools import cache
from typing import Any, Callable

import boto3
from botocore.exceptions import ClientError

dynamodb = boto3.resource("dynamodb")


@cache
def table(name: str) -> Any:
    return dynamodb.Table(name)


def conditional_write(write: Callable[..., Any], **request: Any) -> bool:
    """Run a conditional write (``put_item``, ``delete_item``, ...); False when its condition
    failed and nothing was written, any other error is raised."""
    try:
        write(**request)
    except ClientError as error:
        if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
        return False
    return True


def question(question_id: str, *attributes: str) -> dict[str, Any] | None:
    """The Questions item ``question_id`` with only ``attributes`` (eventually consistent), or None
    when it does not exist. Names are passed as placeholders: ``type`` is a reserved word."""
    names = {f"#a{index}": attribute for index, attribute in enumerate(("questionId", *attributes))}
    return table(os.environ["QUESTIONS_TABLE_NAME"]).get_item(
        Key={"questionId": question_id}, ProjectionExpression=", ".join(names),
        ExpressionAttributeNames=names).get("Item")

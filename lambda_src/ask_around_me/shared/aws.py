"""boto3 for the handlers: one DynamoDB resource per process, tables by name, conditional writes.

Created at import, so during the function's init phase. Handlers only: ``logic`` modules
never import boto3. Every client is bounded (``CLIENT_CONFIG``, suite_lib.sdk_timeouts: about
7 s at most, inside the functions' 10 s timeout; queries run in parallel), so a slow or
unreachable service gets the caller an answer (503), not a timeout.
"""

from __future__ import annotations

import os
from functools import cache
from typing import Any, Callable

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from suite_lib import sdk_timeouts

CLIENT_CONFIG = Config(**sdk_timeouts.api_call())
dynamodb = boto3.resource("dynamodb", config=CLIENT_CONFIG)


def client(service: str, **options: Any) -> Any:
    """A bounded boto3 client (``CLIENT_CONFIG``)."""
    return boto3.client(service, config=CLIENT_CONFIG, **options)


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

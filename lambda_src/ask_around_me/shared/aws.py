"""boto3 for the handlers: one DynamoDB resource per process, tables by name, conditional writes.

Created at import, so during the function's init phase. Handlers only: ``logic`` modules
never import boto3.
"""

from __future__ import annotations

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

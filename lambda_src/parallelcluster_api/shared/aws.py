"""boto3 for the functions: one client per service per process, with bounded timeouts and retries.

Created on first use (during the init phase of the function that imports a module needing them,
or in the test's moto mock). Timeouts are short: DynamoDB and Step Functions answer in
milliseconds, and an API function must answer in seconds whatever they do.
"""
from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from .settings import settings

CLIENT_CONFIG = Config(connect_timeout=2, read_timeout=5, retries={"mode": "standard", "max_attempts": 3})


@cache
def client(service: str) -> Any:
    return boto3.client(service, region_name=settings().region, config=CLIENT_CONFIG)


@cache
def table(name: str) -> Any:
    return boto3.resource("dynamodb", region_name=settings().region, config=CLIENT_CONFIG).Table(name)


def reset() -> None:
    """Forget the clients (tests: each moto mock is a new world)."""
    client.cache_clear()
    table.cache_clear()


def error_code(error: ClientError) -> str:
    return error.response.get("Error", {}).get("Code", "")


def conditional(write: Any, **request: Any) -> bool:
    """Run a conditional DynamoDB write; False when its condition failed and nothing was written."""
    try:
        write(**request)
    except ClientError as error:
        if error_code(error) != "ConditionalCheckFailedException":
            raise
        return False
    return True

"""boto3 clients, one per service and process, with bounded timeouts and retries.

botocore's standard retry mode tries a throttled or failed call at most three times in all;
after that the error reaches the worker, whose message fails and comes back through SQS
(the queue's visibility timeout is the backoff), so no call retries forever.
Clients are created on first use, so importing a handler needs no AWS configuration.
"""
from __future__ import annotations

import functools
from typing import Any

import boto3
from botocore.config import Config

from .queues import QueueSender
from .store import S3Store

CLIENT_CONFIG = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=5, read_timeout=60)


@functools.cache
def client(service: str) -> Any:
    return boto3.client(service, config=CLIENT_CONFIG)


def store() -> S3Store:
    return S3Store(client("s3"))


def sender() -> QueueSender:
    return QueueSender(client("sqs"))

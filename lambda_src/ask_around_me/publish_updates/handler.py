"""DynamoDB stream consumer on the Questions table: real-time fan-out through AWS IoT Core.

New questions go to ``<prefix>/geo/<geohash5>``, summary changes to
``<prefix>/questions/<id>``; a failed publish fails only its record.
"""

from __future__ import annotations

import json
import os
from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.batch import EventType
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from ..shared import aws
from ..shared.handlers import batch_handler, count, logger, tracer
from .logic import messages_for


@cache
def _iot_data(endpoint: str) -> Any:
    """The iot-data client for the account's ATS data endpoint (``xxxx-ats.iot.<region>.amazonaws.com``)."""
    url = endpoint if endpoint.startswith("https://") else f"https://{endpoint}"
    return aws.client("iot-data", endpoint_url=url)


@tracer.capture_method
def record_handler(record: DynamoDBRecord) -> None:
    event_name = record.event_name.name if record.event_name else ""
    messages = messages_for(event_name, record.dynamodb.old_image, record.dynamodb.new_image,
                            record.dynamodb.sequence_number, os.environ.get("TOPIC_PREFIX", "askaroundme"))
    if not messages:
        count("RecordsWithoutMessage")
        return
    client = _iot_data(os.environ["IOT_DATA_ENDPOINT"])
    for topic, payload in messages:
        client.publish(topic=topic, qos=1, payload=json.dumps(payload).encode("utf-8"))
        count("MessagesPublished")
        logger.debug("published", extra={"topic": topic})


handler = batch_handler(EventType.DynamoDBStreams, record_handler)

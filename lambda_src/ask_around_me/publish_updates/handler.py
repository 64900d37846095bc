"""DynamoDB stream consumer on the Questions table: real-time fan-out through AWS IoT Core.

New questions go to ``<prefix>/geo/<geohash5>``, summary changes to
``<prefix>/questions/<id>``; a failed publish fails only its record.
"""

from __future__ import annotations

import json
import os
from functools import cache
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from .logic import messages_for

processor = BatchProcessor(event_type=EventType.DynamoDBStreams)
logger = Logger()
tracer = Tracer()
metrics = Metrics()


@cache
def _iot_data(endpoint: str) -> Any:
    """The iot-data client for the account's ATS data endpoint (``xxxx-ats.iot.<region>.amazonaws.com``)."""
    url = endpoint if endpoint.startswith("https://") else f"https://{endpoint}"
    return boto3.client("iot-data", endpoint_url=url)


@tracer.capture_method
def record_handler(record: DynamoDBRecord) -> None:
    event_name = record.event_name.name if record.event_name else ""
    messages = messages_for(event_name, record.dynamodb.old_image, record.dynamodb.new_image,
                            record.dynamodb.sequence_number, os.environ.get("TOPIC_PREFIX", "askaroundme"))
    if not messages:
        metrics.add_metric(name="RecordsWithoutMessage", unit=MetricUnit.Count, value=1)
        return
    client = _iot_data(os.environ["IOT_DATA_ENDPOINT"])
    for topic, payload in messages:
        client.publish(topic=topic, qos=1, payload=json.dumps(payload).encode("utf-8"))
        metrics.add_metric(name="MessagesPublished", unit=MetricUnit.Count, value=1)
        logger.debug("published", extra={"topic": topic})


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    metrics.add_metric(name="RecordsReceived", unit=MetricUnit.Count, value=len(event.get("Records", [])))
    return process_partial_response(event=event, record_handler=record_handler, processor=processor,
                                    context=context)

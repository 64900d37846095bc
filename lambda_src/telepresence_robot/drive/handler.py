"""POST /publish (API Gateway REST API, Lambda proxy integration): drive the robot.

Thin: validate the command again (API Gateway's model already did, but the function must
not trust its caller), publish it to ``<ROBOT_NAME>/action`` on the account's IoT data
endpoint with QoS 1, answer 202 with what was published (and, for a stop that carried
other fields, ``ignored_fields``: a stop is never refused for them). Invalid input: 400
with a JSON ``message``, nothing published. The broker refusing the message: 503 with a
JSON ``message`` (the caller may retry; a stale drive command is never queued for later).

Invoked directly (``aws lambda invoke``, a test) it expects the same proxy event: an object
whose ``body`` is the request body as a string of JSON. Anything else (an event that is not
an object, a ``body`` already decoded into an object) is answered with 400, never a crash:
a decoded body has lost what the function checks (duplicate fields, size).

Environment:
    ROBOT_NAME          the thing name; the topic is ``<ROBOT_NAME>/action``
    IOT_DATA_ENDPOINT   the ATS data endpoint (``xxxx-ats.iot.<region>.amazonaws.com``,
                        with or without ``https://``)
    ALLOWED_ORIGINS     optional JSON list of web app origins: the request's ``Origin`` is
                        echoed in ``Access-Control-Allow-Origin`` when listed, else the first
                        one is sent (``["*"]`` sends ``*``)
"""

from __future__ import annotations

import json
import os
from functools import cache
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from suite_lib import cors, sdk_timeouts

from .logic import BadRequest, action_topic, parse_command, read_json_object

logger = Logger()
tracer = Tracer()
metrics = Metrics()

# A drive command is only worth delivering right away: the broker drops it after this.
MESSAGE_EXPIRY_SECONDS = 5
# A command late by more than a few seconds is not worth waiting for (suite_lib.sdk_timeouts).
_IOT_CONFIG = Config(**sdk_timeouts.api_call())


@cache
def _iot_data(endpoint: str) -> Any:
    url = endpoint if endpoint.startswith("https://") else f"https://{endpoint}"
    return boto3.client("iot-data", endpoint_url=url, config=_IOT_CONFIG)


def _response(event: dict[str, Any], status: int, body: Any) -> dict[str, Any]:
    return cors.json_response(event, status, body, origins_setting=os.environ.get("ALLOWED_ORIGINS", ""))


@tracer.capture_method
def _publish(topic: str, payload: dict[str, Any]) -> None:
    _iot_data(os.environ["IOT_DATA_ENDPOINT"]).publish(
        topic=topic, qos=1, payload=json.dumps(payload).encode("utf-8"),
        contentType="application/json", messageExpiry=MESSAGE_EXPIRY_SECONDS)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: Any, context: Any) -> dict[str, Any]:
    if not isinstance(event, dict):
        return _rejected({}, BadRequest("the event must be an API Gateway proxy event (a JSON object)"))
    try:
        command = parse_command(read_json_object(event.get("body"), bool(event.get("isBase64Encoded"))))
    except BadRequest as error:
        return _rejected(event, error)

    topic = action_topic(os.environ["ROBOT_NAME"])
    payload = command.payload()
    answer: dict[str, Any] = {"topic": topic, "command": payload}
    if command.ignored_fields:
        answer["ignored_fields"] = list(command.ignored_fields)
        # Escaped for the log: a lone surrogate in a field name would make the log line unwritable.
        logged = [name.encode("ascii", "backslashreplace").decode("ascii") for name in command.ignored_fields]
        logger.warning("stop published without its other fields", extra={"ignored_fields": logged})
    try:
        _publish(topic, payload)
    except (BotoCoreError, ClientError):
        metrics.add_metric(name="PublishFailures", unit=MetricUnit.Count, value=1)
        logger.exception("publishing the command failed", extra={"topic": topic})
        return _response(event, 503, {"message": "The command could not be delivered to the robot; try again"})
    metrics.add_metric(name="CommandsPublished", unit=MetricUnit.Count, value=1)
    logger.info("command published", extra={"topic": topic, "command": payload})
    return _response(event, 202, answer)


def _rejected(event: dict[str, Any], error: BadRequest) -> dict[str, Any]:
    metrics.add_metric(name="RejectedCommands", unit=MetricUnit.Count, value=1)
    logger.info("command rejected", extra={"reason": str(error)})
    return _response(event, 400, {"message": str(error)})

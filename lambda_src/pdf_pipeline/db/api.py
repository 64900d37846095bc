"""What the two read-only API functions share (``batch_status``, ``reports``): REST API Lambda
proxy events in, JSON out, one reused database connection, Powertools around it all.

A route raises :class:`BadRequest` (400) or :class:`NotFound` (404) for what the caller sent;
the database being unreachable, slow or failing is a 503 with ``Retry-After`` (never a bare
502 from a crashed function), and the connection is opened again on the next request. Every
answer is ``{"message": ...}`` JSON for errors and never echoes more than a clipped repr of
the input.
"""
from __future__ import annotations

import functools
import json
import re
import time
from typing import Any, Callable, Mapping

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit

from ..settings import Settings
from .connection import DatabaseUnavailable, Reused, timeout_for

logger = Logger()
tracer = Tracer()
metrics = Metrics()

BATCH_ID = re.compile(r"^b-[0-9A-Za-z-]{1,64}$")   # what audit.batches accepts
ANSWER_RESERVE_S = 1.0                              # kept to format and return the answer
RETRY_AFTER_S = 5
MAX_SHOWN = 40

Connect = Callable[[], Any]
Route = Callable[[Mapping[str, Any], Connect], dict[str, Any]]


class RequestError(Exception):
    status: int
    metric: str


class BadRequest(RequestError):
    status = 400
    metric = "RejectedRequests"


class NotFound(RequestError):
    status = 404
    metric = "NotFound"


def shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= MAX_SHOWN else text[:MAX_SHOWN] + "..."


def json_response(status: int, body: Any, *, headers: Mapping[str, str] | None = None) -> dict[str, Any]:
    """A REST API Lambda proxy response."""
    return {"statusCode": status,
            "headers": {"Content-Type": "application/json", "Cache-Control": "no-store", **(headers or {})},
            "body": json.dumps(body, separators=(",", ":"))}


def path_parameter(event: Mapping[str, Any], name: str) -> str:
    parameters = event.get("pathParameters")
    value = parameters.get(name) if isinstance(parameters, Mapping) else None
    if not isinstance(value, str) or not value:
        raise BadRequest(f"the path parameter {name} is required")
    return value


def query_parameters(event: Mapping[str, Any], allowed: tuple[str, ...]) -> dict[str, str]:
    """The query string as one value per name; BadRequest for a name not in ``allowed`` or a
    name given more than once (API Gateway's single-value map would keep only the last)."""
    single = event.get("queryStringParameters") or {}
    multiple = event.get("multiValueQueryStringParameters") or {}
    if not isinstance(single, Mapping) or not isinstance(multiple, Mapping):
        raise BadRequest("the query string is not readable")
    for name in {*single, *multiple}:
        if name not in allowed:
            known = ", ".join(allowed) or "none"
            raise BadRequest(f"unknown query parameter {shown(name)} (known: {known})")
    for name, values in multiple.items():
        if isinstance(values, list) and len(values) > 1:
            raise BadRequest(f"the query parameter {name} may be given once")
    return {name: value for name, value in single.items() if isinstance(value, str)}


def batch_id(value: str) -> str:
    if not BATCH_ID.match(value):
        raise BadRequest(f"batch id must look like b-01K... (b- and up to 64 letters, digits or -), "
                         f"got {shown(value)}")
    return value


def _caller(event: Any) -> str | None:
    """Who signed the request (IAM auth): the ARN API Gateway verified, for the logs."""
    context = event.get("requestContext") if isinstance(event, Mapping) else None
    identity = context.get("identity") if isinstance(context, Mapping) else None
    caller = identity.get("userArn") if isinstance(identity, Mapping) else None
    return caller if isinstance(caller, str) else None


def count(name: str) -> None:
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)


class ReadApi:
    """The handler factory of one read-only API function; its connection lives as long as the
    execution environment."""

    def __init__(self, database: Reused | None = None) -> None:
        self.database = database or Reused(Settings.from_environ)

    def handler(self, route: Route) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
        @functools.wraps(route)
        def answer(event: dict[str, Any], context: Any) -> dict[str, Any]:
            deadline = time.monotonic() + context.get_remaining_time_in_millis() / 1000

            def connect() -> Any:
                left = deadline - time.monotonic()
                return self.database.get(timeout_s=timeout_for(left, reserve_s=ANSWER_RESERVE_S))

            count("Requests")
            logger.append_keys(caller=_caller(event))
            try:
                return route(event if isinstance(event, Mapping) else {}, connect)
            except RequestError as error:
                count(error.metric)
                return json_response(error.status, {"message": str(error)})
            except DatabaseUnavailable:
                logger.exception("the audit database failed the request")
                self.database.discard()
                count("DatabaseUnavailable")
                return json_response(503, {"message": "the audit database is unavailable; try again shortly"},
                                     headers={"Retry-After": str(RETRY_AFTER_S)})

        return logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)(
            tracer.capture_lambda_handler(metrics.log_metrics(answer)))

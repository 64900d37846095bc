"""How a function's Lambda handler is wrapped: Powertools logging, tracing and metrics.

One Logger, Tracer and Metrics per process (Powertools shares their state per service
anyway). :func:`http_handler` wraps an HTTP API route, :func:`batch_handler` builds the
handler of a queue or stream consumer from its record handler.
"""

from __future__ import annotations

import functools
from typing import Any, Callable

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from botocore.exceptions import BotoCoreError, ClientError

from .http import RequestError, json_response

UNAVAILABLE_MESSAGE = "The service is busy or unreachable right now; try again in a moment"
# Answers that mean "not now" rather than "not this request" (retrying later can succeed).
_UNAVAILABLE_CODES = frozenset({
    "ThrottlingException", "Throttling", "TooManyRequestsException", "ProvisionedThroughputExceededException",
    "RequestLimitExceeded", "LimitExceededException", "ServiceUnavailable", "InternalServerError",
    "InternalFailure", "InternalError", "KMSInternalException"})


def unavailable(error: ClientError) -> bool:
    """A throttled or failing service (5xx, or a throttling code), as opposed to a refused request."""
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    return status >= 500 or error.response.get("Error", {}).get("Code") in _UNAVAILABLE_CODES

logger = Logger()
tracer = Tracer()
metrics = Metrics()

LambdaHandler = Callable[[dict[str, Any], Any], dict[str, Any]]

def count(name: str, value: int = 1) -> None:
    """Add ``value`` to the Count metric ``name`` of this invocation."""
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)


def http_handler(route: LambdaHandler) -> LambdaHandler:
    """The Lambda handler of an HTTP API route (payload format 2.0).

    The route returns its response; a :class:`.http.RequestError` it raises becomes
    ``{"message": str(error)}`` with the error's status, counted in the error's metric. A
    service that did not answer in time, was unreachable, throttled or failed (the SDK's
    bounded retries spent) becomes 503 with a message to try again, counted as
    ``DependencyFailures``; any other error still fails the invocation (a bug, alarmed on).
    """
    @functools.wraps(route)
    def answer(event: dict[str, Any], context: Any) -> dict[str, Any]:
        try:
            return route(event, context)
        except RequestError as error:
            count(error.metric)
            return json_response(error.status, {"message": str(error)})
        except (BotoCoreError, ClientError) as error:
            if isinstance(error, ClientError) and not unavailable(error):
                raise
            logger.exception("a service did not answer")
            count("DependencyFailures")
            return json_response(503, {"message": UNAVAILABLE_MESSAGE})

    return logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)(
        tracer.capture_lambda_handler(metrics.log_metrics(answer)))


def batch_handler(event_type: EventType, record_handler: Callable[[Any], None]) -> LambdaHandler:
    """The Lambda handler of an SQS or DynamoDB stream consumer: each record goes to
    ``record_handler``; the records it raises for fail alone (partial batch response)."""
    processor = BatchProcessor(event_type=event_type)

    @logger.inject_lambda_context
    @tracer.capture_lambda_handler
    @metrics.log_metrics
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        count("RecordsReceived", len(event.get("Records", [])))
        return process_partial_response(event=event, record_handler=record_handler, processor=processor,
                                        context=context)

    return handler

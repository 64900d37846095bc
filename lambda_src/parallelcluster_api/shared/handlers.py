"""How a function's Lambda handler is wrapped: Powertools logging, tracing and metrics, the caller,
the route's parameters, and every failure turned into the API's answer.

:func:`api_handler` serves a REST API route (Lambda proxy integration): the function receives an
:class:`ApiRequest` (caller, validated parameters, deadline) and returns its response. An
:class:`.http.ApiError` becomes its status and ``{"message", ...}``, a ParallelCluster error the
status and body ParallelCluster gave it, a deadline passed 504, anything else a logged 500 that
says nothing about the internals. :func:`workflow_handler` serves a state of the workflow.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from enum import Enum
from typing import Any, Callable

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit

from .. import routes
from ..routes import Route
from .deadlines import Deadline, DeadlineExceeded
from .http import ApiError, BadRequest, Caller, caller_of, json_response, parameters, read_model
from .pcluster import PclusterError
from .settings import API_DEADLINE_SECONDS, settings

logger = Logger()
tracer = Tracer()
metrics = Metrics()

LambdaHandler = Callable[[dict[str, Any], Any], dict[str, Any]]
UNEXPECTED = "Unexpected fatal exception. Please look at the API logs for details on the encountered failure."
_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


def count(name: str, value: int = 1) -> None:
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)


def snake(name: str) -> str:
    """A spec parameter name as pcluster.lib's keyword (``nextToken`` -> ``next_token``)."""
    return _CAMEL.sub("_", name).lower()


@dataclass(frozen=True)
class ApiRequest:
    event: dict[str, Any]
    context: Any
    route: Route
    caller: Caller
    params: dict[str, Any]
    deadline: Deadline

    @property
    def request_id(self) -> str | None:
        return (self.event.get("requestContext") or {}).get("requestId")

    def body(self, model: type) -> Any:
        return read_model(self.event, model, max_bytes=settings().max_body_bytes)

    def keywords(self) -> dict[str, Any]:
        """The parameters as pcluster.lib keywords, less the cluster name (passed on its own) and the
        region (which the adapter sets)."""
        return {snake(name): value for name, value in self.params.items() if name not in ("region", "clusterName")}

    def options(self) -> dict[str, Any]:
        """The spec's query options of a create or update (as JSON: enum values), dryrun and region aside."""
        return {name: [item.value if isinstance(item, Enum) else item for item in value] if isinstance(value, list)
                else value.value if isinstance(value, Enum) else value
                for name, value in self.params.items()
                if name not in ("region", "dryrun") and name in {p.name for p in self.route.parameters_in("query")}}


def _request(route: Route, event: dict[str, Any], context: Any) -> ApiRequest:
    caller = caller_of(event, admin_scope=settings().admin_scope)
    params = parameters(route, event)
    region = params.get("region")
    if region is not None and region != settings().region:
        raise BadRequest(f"region must be {settings().region}, the region this API manages, got {region!r}")
    return ApiRequest(event=event, context=context, route=route, caller=caller, params=params,
                      deadline=Deadline.of_invocation(context, cap_seconds=API_DEADLINE_SECONDS))


def api_handler(function: str) -> Callable[[Callable[[ApiRequest], dict[str, Any]]], LambdaHandler]:
    """The Lambda handler of the route of ``function`` (see the module docstring)."""
    route = routes.route(function)

    def decorate(handle: Callable[[ApiRequest], dict[str, Any]]) -> LambdaHandler:
        @functools.wraps(handle)
        def answer(event: dict[str, Any], context: Any) -> dict[str, Any]:
            try:
                request = _request(route, event, context)
                logger.append_keys(caller=request.caller.sub)
                return handle(request)
            except ApiError as error:
                count(error.metric)
                return json_response(error.status, error.body)
            except PclusterError as error:
                count("ParallelClusterErrors")
                logger.info("ParallelCluster refused the request", extra={"status": error.status})
                return json_response(error.status, error.body)
            except DeadlineExceeded:
                count("UpstreamTimeouts")
                logger.warning("ParallelCluster did not answer before the deadline")
                return json_response(504, {"message": "ParallelCluster did not answer in time. The request may "
                                                      "still take effect: read the resource again before retrying."})
            except Exception:
                logger.exception("unexpected failure")
                count("Errors")
                return json_response(500, {"message": UNEXPECTED})

        return logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)(
            tracer.capture_lambda_handler(metrics.log_metrics(answer)))

    return decorate


def ok(request: ApiRequest, body: Any) -> dict[str, Any]:
    """The route's success status with ``body``."""
    return json_response(request.route.success_status, body)


def workflow_handler(step: Callable[[dict[str, Any], Any], dict[str, Any]]) -> LambdaHandler:
    """The Lambda handler of a workflow state: the state's JSON in, the next state's JSON out. An
    exception fails the state (the state machine retries or catches it)."""
    @functools.wraps(step)
    def run(event: dict[str, Any], context: Any) -> dict[str, Any]:
        logger.append_keys(operationId=event.get("operationId"), operation=event.get("operation"))
        return step(event, context)

    return logger.inject_lambda_context(clear_state=True)(tracer.capture_lambda_handler(metrics.log_metrics(run)))

"""PLACEHOLDER (pc-stack): the API's routes with the handlers branch's names and shapes (that
branch's routes.py replaces this file). The official ParallelCluster 3 routes (image routes aside),
``GET /v3/operations/{operationId}`` and the legacy ``POST /pcluster``."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from . import models as m

Scope = Literal["read", "write", "admin"]
SCOPES: tuple[Scope, ...] = ("read", "write", "admin")
RESOURCE_SERVER = "parallelcluster"


@dataclass(frozen=True)
class Parameter:
    name: str
    location: Literal["path", "query", "header"]
    description: str = ""
    type: Any = str
    required: bool = False


@dataclass(frozen=True)
class Response:
    status: int
    model: type | None
    description: str = ""


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    function: str
    operation_id: str
    summary: str
    scope: Scope
    success: Response
    request_model: type | None = None
    parameters: tuple[Parameter, ...] = ()

    @property
    def success_status(self) -> int:
        return self.success.status

    def parameters_in(self, location: str) -> tuple[Parameter, ...]:
        return tuple(parameter for parameter in self.parameters if parameter.location == location)


def _query(*names: str) -> tuple[Parameter, ...]:
    return tuple(Parameter(name, "query") for name in names)


CLUSTER = Parameter("clusterName", "path", required=True)
REGION = Parameter("region", "query")
_CLUSTER_PATH = "/v3/clusters/{clusterName}"

ROUTES: tuple[Route, ...] = (
    Route("GET", "/v3/clusters", "list_clusters", "ListClusters", "", "read", Response(200, None),
          parameters=(REGION, *_query("nextToken", "clusterStatus"))),
    Route("POST", "/v3/clusters", "create_cluster", "CreateCluster", "", "write", Response(202, None),
          request_model=m.CreateClusterRequestContent,
          parameters=(REGION, *_query("suppressValidators", "validationFailureLevel", "dryrun", "rollbackOnFailure"))),
    Route("GET", _CLUSTER_PATH, "describe_cluster", "DescribeCluster", "", "read", Response(200, None),
          parameters=(CLUSTER, REGION)),
    Route("PUT", _CLUSTER_PATH, "update_cluster", "UpdateCluster", "", "write", Response(202, None),
          request_model=m.UpdateClusterRequestContent,
          parameters=(CLUSTER, REGION, *_query("suppressValidators", "validationFailureLevel", "dryrun",
                                               "forceUpdate"))),
    Route("DELETE", _CLUSTER_PATH, "delete_cluster", "DeleteCluster", "", "write", Response(202, None),
          parameters=(CLUSTER, REGION)),
    Route("GET", f"{_CLUSTER_PATH}/computefleet", "describe_compute_fleet", "DescribeComputeFleet", "", "read",
          Response(200, None), parameters=(CLUSTER, REGION)),
    Route("PATCH", f"{_CLUSTER_PATH}/computefleet", "update_compute_fleet", "UpdateComputeFleet", "", "write",
          Response(204, None), request_model=m.UpdateComputeFleetRequestContent, parameters=(CLUSTER, REGION)),
    Route("GET", f"{_CLUSTER_PATH}/instances", "describe_cluster_instances", "DescribeClusterInstances", "", "read",
          Response(200, None), parameters=(CLUSTER, REGION, *_query("nextToken", "nodeType", "queueName"))),
    Route("DELETE", f"{_CLUSTER_PATH}/instances", "delete_cluster_instances", "DeleteClusterInstances", "", "write",
          Response(202, None), parameters=(CLUSTER, REGION, *_query("force"))),
    Route("GET", f"{_CLUSTER_PATH}/stackevents", "get_cluster_stack_events", "GetClusterStackEvents", "", "read",
          Response(200, None), parameters=(CLUSTER, REGION, *_query("nextToken"))),
    Route("GET", f"{_CLUSTER_PATH}/logstreams", "list_cluster_log_streams", "ListClusterLogStreams", "", "read",
          Response(200, None), parameters=(CLUSTER, REGION, *_query("filters", "nextToken"))),
    Route("GET", f"{_CLUSTER_PATH}/logstreams/{{logStreamName}}", "get_cluster_log_events", "GetClusterLogEvents", "",
          "read", Response(200, None),
          parameters=(CLUSTER, Parameter("logStreamName", "path", required=True), REGION,
                      *_query("nextToken", "startFromHead", "limit", "startTime", "endTime"))),
    Route("GET", "/v3/images/official", "list_official_images", "ListOfficialImages", "", "read", Response(200, None),
          parameters=(REGION, *_query("os", "architecture"))),
    Route("GET", "/v3/operations/{operationId}", "get_operation", "GetOperation", "", "read", Response(200, None),
          parameters=(Parameter("operationId", "path", required=True),)),
    Route("POST", "/pcluster", "legacy_pcluster", "LegacyPcluster", "", "write", Response(200, None),
          parameters=(Parameter("command", "query", type=m.LegacyCommand, required=True),
                      Parameter("cluster_name", "query"), Parameter("additional_parameters", "header"))),
)

ROUTES_BY_FUNCTION: dict[str, Route] = {route.function: route for route in ROUTES}
WORKFLOW_FUNCTIONS: tuple[str, ...] = ("submit_operation", "poll_cluster", "record_outcome")
FUNCTIONS: tuple[str, ...] = (*ROUTES_BY_FUNCTION, *WORKFLOW_FUNCTIONS)
FUNCTIONS_WITHOUT_PCLUSTER: frozenset[str] = frozenset({"get_operation", "record_outcome"})


def scope_name(scope: Scope, resource_server: str = RESOURCE_SERVER) -> str:
    return f"{resource_server}/{scope}"


def default_permissions(resource_server: str = RESOURCE_SERVER) -> list[dict[str, str]]:
    """Each route granted by its own scope and by admin."""
    return [{"method": route.method, "resource": route.path, "scope": scope_name(scope, resource_server)}
            for route in ROUTES for scope in dict.fromkeys((route.scope, "admin"))]

"""PLACEHOLDER (pc-stack): the API's routes, the single source of truth; the handlers branch replaces it.

Shapes follow the official ParallelCluster 3 OpenAPI spec (aws-parallelcluster 3.16.1,
``pcluster/api/openapi/openapi.yaml``), plus ``GET /v3/operations/{operationId}`` and the legacy
``POST /pcluster``.
"""
from __future__ import annotations

from dataclasses import dataclass

from .models import CreateClusterRequest, UpdateClusterRequest, UpdateComputeFleetRequest

SCOPES = ("read", "write", "admin")
VALIDATION_LEVELS = ("INFO", "WARNING", "ERROR")
BOOLEAN = ("true", "false")
CLUSTER_STATUSES = ("CREATE_IN_PROGRESS", "CREATE_FAILED", "CREATE_COMPLETE", "DELETE_IN_PROGRESS",
                    "DELETE_FAILED", "UPDATE_IN_PROGRESS", "UPDATE_COMPLETE", "UPDATE_FAILED")
NODE_TYPES = ("HeadNode", "ComputeNode", "LoginNode")
LEGACY_COMMANDS = ("create", "status", "delete", "list", "start", "stop")


@dataclass(frozen=True)
class QueryParameter:
    name: str
    enum: tuple[str, ...] | None = None
    required: bool = False


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    function: str
    request_model: type | None
    query_parameters: tuple[QueryParameter, ...]
    success_status: int
    scope: str  # read | write | admin


def _q(*names: str) -> tuple[QueryParameter, ...]:
    return tuple(QueryParameter(name) for name in names)


REGION = QueryParameter("region")
CLUSTER = "/v3/clusters/{clusterName}"

ROUTES: tuple[Route, ...] = (
    Route("GET", "/v3/clusters", "list_clusters", None,
          (REGION, QueryParameter("nextToken"), QueryParameter("clusterStatus", CLUSTER_STATUSES)), 200, "read"),
    Route("POST", "/v3/clusters", "create_cluster", CreateClusterRequest,
          (REGION, QueryParameter("suppressValidators"), QueryParameter("validationFailureLevel", VALIDATION_LEVELS),
           QueryParameter("dryrun", BOOLEAN), QueryParameter("rollbackOnFailure", BOOLEAN)), 202, "write"),
    Route("GET", CLUSTER, "describe_cluster", None, (REGION,), 200, "read"),
    Route("PUT", CLUSTER, "update_cluster", UpdateClusterRequest,
          (REGION, QueryParameter("suppressValidators"), QueryParameter("validationFailureLevel", VALIDATION_LEVELS),
           QueryParameter("dryrun", BOOLEAN), QueryParameter("forceUpdate", BOOLEAN)), 202, "write"),
    Route("DELETE", CLUSTER, "delete_cluster", None, (REGION,), 202, "write"),
    Route("GET", f"{CLUSTER}/computefleet", "describe_compute_fleet", None, (REGION,), 200, "read"),
    Route("PATCH", f"{CLUSTER}/computefleet", "update_compute_fleet", UpdateComputeFleetRequest, (REGION,), 204,
          "write"),
    Route("GET", f"{CLUSTER}/instances", "describe_cluster_instances", None,
          (REGION, QueryParameter("nextToken"), QueryParameter("nodeType", NODE_TYPES), QueryParameter("queueName")),
          200, "read"),
    Route("DELETE", f"{CLUSTER}/instances", "delete_cluster_instances", None,
          (REGION, QueryParameter("force", BOOLEAN)), 202, "write"),
    Route("GET", f"{CLUSTER}/stackevents", "get_cluster_stack_events", None, (REGION, *_q("nextToken")), 200,
          "read"),
    Route("GET", f"{CLUSTER}/logstreams", "list_cluster_log_streams", None, (REGION, *_q("filters", "nextToken")),
          200, "read"),
    Route("GET", f"{CLUSTER}/logstreams/{{logStreamName}}", "get_cluster_log_events", None,
          (REGION, *_q("nextToken"), QueryParameter("startFromHead", BOOLEAN), *_q("limit", "startTime", "endTime")),
          200, "read"),
    Route("GET", "/v3/images/official", "list_official_images", None, (REGION, *_q("os", "architecture")), 200,
          "read"),
    Route("GET", "/v3/operations/{operationId}", "get_operation", None, (), 200, "read"),
    Route("POST", "/pcluster", "legacy_pcluster", None,
          (QueryParameter("command", LEGACY_COMMANDS, required=True), QueryParameter("cluster_name")), 200, "write"),
)

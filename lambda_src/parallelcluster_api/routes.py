"""Every route of the API, once: the stack builds its methods from :data:`ROUTES`, the authorizer's
default permissions come from :func:`default_permissions`, ``scripts/export_openapi.py`` writes the
OpenAPI document from them, and each function reads its own query, path and header parameters
through its route (``shared.http.parameters``). Pure: no imports beyond the stdlib and the models.

Routes, parameters, statuses and bodies are those of the official ParallelCluster 3 API (image
routes aside), plus ``GET /v3/operations/{operationId}`` and the legacy ``POST /pcluster``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from . import models as m

Scope = Literal["read", "write", "admin"]
SCOPES: tuple[Scope, ...] = ("read", "write", "admin")
# The resource server of the stack's Cognito user pool: scopes are "parallelcluster/read", ...
RESOURCE_SERVER = "parallelcluster"
LEGACY_PATH = "/pcluster"
ADDITIONAL_PARAMETERS_HEADER = "additional_parameters"
MAX_TOKEN_LENGTH = 2048  # nextToken values: opaque, but bounded
MAX_LOG_EVENTS = 10_000  # CloudWatch Logs' own limit per GetLogEvents call


@dataclass(frozen=True)
class Parameter:
    """A path, query or header parameter. ``type`` is str, bool, int or a str Enum of its values."""

    name: str
    location: Literal["path", "query", "header"]
    description: str
    type: Any = str
    required: bool = False
    multi: bool = False  # a query parameter that may repeat (?a=1&a=2)
    pattern: str | None = None
    max_length: int | None = None
    minimum: int | None = None
    maximum: int | None = None
    format: str | None = None


@dataclass(frozen=True)
class Response:
    status: int
    model: type | None
    description: str


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # an API Gateway resource path
    function: str  # lambda_src/parallelcluster_api/<function>/
    operation_id: str
    summary: str
    scope: Scope  # the scope that grants the route (admin grants every route)
    success: Response
    request_model: type | None = None
    parameters: tuple[Parameter, ...] = ()
    errors: tuple[Response, ...] = ()
    tag: str = "Cluster Operations"
    extra_success: tuple[Response, ...] = ()

    @property
    def success_status(self) -> int:
        return self.success.status

    def parameters_in(self, location: str) -> tuple[Parameter, ...]:
        return tuple(parameter for parameter in self.parameters if parameter.location == location)

    @property
    def responses(self) -> tuple[Response, ...]:
        return (self.success, *self.extra_success, *self.errors)


# Parameters of the spec.
CLUSTER_NAME = Parameter("clusterName", "path", "Name of the cluster", required=True,
                         pattern=m.CLUSTER_NAME_PATTERN, max_length=m.CLUSTER_NAME_MAX_LENGTH)
REGION = Parameter("region", "query", "AWS Region that the operation corresponds to. This API serves the region "
                   "it is deployed in: any other value is refused.", pattern="^[a-z]{2}(-[a-z]+)+-[0-9]+$",
                   max_length=32)
NEXT_TOKEN = Parameter("nextToken", "query", "Token to use for paginated requests.", max_length=MAX_TOKEN_LENGTH)
DRYRUN = Parameter("dryrun", "query", "Only perform request validation without creating any resource. (Defaults "
                   "to 'false'.) The answer is 412 (would succeed) or 400 (validation errors) when validation ends "
                   "within the dry-run wait, else 202 with the operation to read.", type=bool)
VALIDATION_FAILURE_LEVEL = Parameter("validationFailureLevel", "query", "Min validation level that will cause the "
                                     "operation to fail. (Defaults to 'ERROR'.)", type=m.ValidationLevel)
SUPPRESS_VALIDATORS = Parameter("suppressValidators", "query", "Identifies one or more config validators to "
                                "suppress. Format: (ALL|type:[A-Za-z0-9]+)", multi=True,
                                pattern=m.SUPPRESS_VALIDATORS_PATTERN, max_length=128)
ROLLBACK_ON_FAILURE = Parameter("rollbackOnFailure", "query", "When set it automatically initiates a cluster stack "
                                "rollback on failures. (Defaults to 'true'.)", type=bool)
FORCE_UPDATE = Parameter("forceUpdate", "query", "Force update by ignoring the update validation errors. (Defaults "
                         "to 'false'.)", type=bool)
CLUSTER_STATUS = Parameter("clusterStatus", "query", "Filter by cluster status. (Defaults to all clusters.)",
                           type=m.ClusterStatusFilteringOption, multi=True)
NODE_TYPE = Parameter("nodeType", "query", "Filter the instances by node type.", type=m.NodeType)
QUEUE_NAME = Parameter("queueName", "query", "Filter the instances by queue name.", pattern="^[a-z][a-z0-9-]*$",
                       max_length=64)
FORCE = Parameter("force", "query", "Force the deletion also when the cluster with the given name is not found. "
                  "(Defaults to 'false'.)", type=bool)
FILTERS = Parameter("filters", "query", "Filter the log streams. Format: 'Name=a,Values=1 Name=b,Values=2,3'. "
                    "Accepted filters are: private-dns-name - The short form of the private DNS name of the instance "
                    "(e.g. ip-10-0-0-101). node-type - The node type, the only accepted value for this filter is "
                    "HeadNode.", multi=True, pattern="^Name=[a-z-]+,Values=[A-Za-z0-9.,-]+$", max_length=256)
LOG_STREAM_NAME = Parameter("logStreamName", "path", "Name of the log stream.", required=True,
                            pattern="^[^:*\\x00-\\x1f]+$", max_length=512)
START_FROM_HEAD = Parameter("startFromHead", "query", "If the value is true, the earliest log events are returned "
                            "first. If the value is false, the latest log events are returned first. (Defaults to "
                            "'false'.)", type=bool)
LIMIT = Parameter("limit", "query", "The maximum number of log events returned. If you don't specify a value, the "
                  "maximum is as many log events as can fit in a response size of 1 MB, up to 10,000 log events.",
                  type=int, minimum=1, maximum=MAX_LOG_EVENTS)
START_TIME = Parameter("startTime", "query", "The start of the time range, expressed in ISO 8601 format (e.g. "
                       "'2021-01-01T20:00:00Z'). Events with a timestamp equal to this time or later than this time "
                       "are included.", format=m.DATE_TIME, max_length=40)
END_TIME = Parameter("endTime", "query", "The end of the time range, expressed in ISO 8601 format (e.g. "
                     "'2021-01-01T20:00:00Z'). Events with a timestamp equal to or later than this time are not "
                     "included.", format=m.DATE_TIME, max_length=40)
OS = Parameter("os", "query", "Filter by OS distribution (Default is to not filter.)", pattern="^[a-z0-9]+$",
               max_length=32)
ARCHITECTURE = Parameter("architecture", "query", "Filter by architecture (Default is to not filter.)",
                         pattern="^[a-z0-9_]+$", max_length=16)
# Parameters of this API.
OPERATION_ID = Parameter("operationId", "path", "Id of the operation, from the 202 of a create, update or delete.",
                         required=True, pattern=m.OPERATION_ID_PATTERN, max_length=36)
LEGACY_COMMAND = Parameter("command", "query", "The pcluster command of the 2020 post.", type=m.LegacyCommand,
                           required=True)
LEGACY_CLUSTER_NAME = Parameter("cluster_name", "query", "Name of the cluster (every command but list).",
                                pattern=m.CLUSTER_NAME_PATTERN, max_length=m.CLUSTER_NAME_MAX_LENGTH)
ADDITIONAL_PARAMETERS = Parameter(ADDITIONAL_PARAMETERS_HEADER, "header", "pcluster flags, separated by spaces, "
                                  "from an allowlist (docs/parallelcluster_api.md); any other flag is refused.",
                                  max_length=1024)


def _error(status: int, model: type, description: str) -> Response:
    return Response(status, model, description)


BAD_REQUEST = _error(400, m.BadRequestExceptionResponseContent, "Invalid request")
UNAUTHORIZED = _error(401, m.UnauthorizedClientErrorResponseContent, "No valid bearer token (from API Gateway)")
FORBIDDEN = _error(403, m.ForbiddenResponseContent, "The token's scopes do not grant this route")
NOT_FOUND = _error(404, m.NotFoundExceptionResponseContent, "No such cluster, or not one of the caller's")
CONFLICT = _error(409, m.ConflictExceptionResponseContent, "The cluster exists, or has an operation in progress")
DRYRUN_SUCCEEDED = _error(412, m.DryrunOperationExceptionResponseContent, "The dry run would have succeeded")
LIMIT_EXCEEDED = _error(429, m.LimitExceededExceptionResponseContent, "Too many requests")
INTERNAL = _error(500, m.InternalServiceExceptionResponseContent, "Internal error")
GATEWAY_TIMEOUT = _error(504, m.GatewayTimeoutResponseContent, "ParallelCluster did not answer in time")
_COMMON = (UNAUTHORIZED, FORBIDDEN, LIMIT_EXCEEDED, INTERNAL, GATEWAY_TIMEOUT)
_READ_ERRORS = (BAD_REQUEST, *_COMMON)
_CLUSTER_READ_ERRORS = (BAD_REQUEST, NOT_FOUND, *_COMMON)
_ACCEPTED = "The workflow started; the outcome is at GET /v3/operations/{operationId}"

ROUTES: tuple[Route, ...] = (
    Route("GET", "/v3/clusters", "list_clusters", "ListClusters", "Retrieve the list of existing clusters (the "
          "caller's own; every cluster for the admin scope).", "read",
          Response(200, m.ListClustersResponseContent, "The clusters"),
          parameters=(REGION, NEXT_TOKEN, CLUSTER_STATUS), errors=_READ_ERRORS),
    Route("POST", "/v3/clusters", "create_cluster", "CreateCluster", "Create a managed cluster in the API's region.",
          "write", Response(202, m.ClusterOperationAcceptedResponseContent, _ACCEPTED),
          request_model=m.CreateClusterRequestContent,
          parameters=(REGION, SUPPRESS_VALIDATORS, VALIDATION_FAILURE_LEVEL, DRYRUN, ROLLBACK_ON_FAILURE),
          errors=(_error(400, m.CreateClusterBadRequestExceptionResponseContent, "Invalid request or configuration"),
                  CONFLICT, DRYRUN_SUCCEEDED, *_COMMON)),
    Route("GET", "/v3/clusters/{clusterName}", "describe_cluster", "DescribeCluster", "Get detailed information "
          "about an existing cluster.", "read", Response(200, m.DescribeClusterResponseContent, "The cluster"),
          parameters=(CLUSTER_NAME, REGION), errors=_CLUSTER_READ_ERRORS),
    Route("PUT", "/v3/clusters/{clusterName}", "update_cluster", "UpdateCluster", "Update a cluster managed in the "
          "API's region.", "write", Response(202, m.ClusterOperationAcceptedResponseContent, _ACCEPTED),
          request_model=m.UpdateClusterRequestContent,
          parameters=(CLUSTER_NAME, SUPPRESS_VALIDATORS, VALIDATION_FAILURE_LEVEL, REGION, DRYRUN, FORCE_UPDATE),
          errors=(_error(400, m.UpdateClusterBadRequestExceptionResponseContent, "Invalid request or configuration"),
                  NOT_FOUND, CONFLICT, DRYRUN_SUCCEEDED, *_COMMON)),
    Route("DELETE", "/v3/clusters/{clusterName}", "delete_cluster", "DeleteCluster", "Initiate the deletion of a "
          "cluster.", "write", Response(202, m.ClusterOperationAcceptedResponseContent, _ACCEPTED),
          parameters=(CLUSTER_NAME, REGION), errors=(BAD_REQUEST, NOT_FOUND, CONFLICT, *_COMMON)),
    Route("GET", "/v3/clusters/{clusterName}/computefleet", "describe_compute_fleet", "DescribeComputeFleet",
          "Describe the status of the compute fleet.", "read",
          Response(200, m.DescribeComputeFleetResponseContent, "The compute fleet status"),
          parameters=(CLUSTER_NAME, REGION), errors=_CLUSTER_READ_ERRORS, tag="Cluster ComputeFleet"),
    Route("PATCH", "/v3/clusters/{clusterName}/computefleet", "update_compute_fleet", "UpdateComputeFleet",
          "Update the status of the cluster compute fleet.", "write",
          Response(204, m.UpdateComputeFleetResponseContent, "The new status (the spec's 204, which carries it)"),
          request_model=m.UpdateComputeFleetRequestContent, parameters=(CLUSTER_NAME, REGION),
          errors=_CLUSTER_READ_ERRORS, tag="Cluster ComputeFleet"),
    Route("GET", "/v3/clusters/{clusterName}/instances", "describe_cluster_instances", "DescribeClusterInstances",
          "Describe the instances belonging to a given cluster.", "read",
          Response(200, m.DescribeClusterInstancesResponseContent, "The instances"),
          parameters=(CLUSTER_NAME, REGION, NEXT_TOKEN, NODE_TYPE, QUEUE_NAME), errors=_CLUSTER_READ_ERRORS,
          tag="Cluster Instances"),
    Route("DELETE", "/v3/clusters/{clusterName}/instances", "delete_cluster_instances", "DeleteClusterInstances",
          "Initiate the forced termination of all cluster compute nodes. Does not work with AWS Batch clusters.",
          "write", Response(202, None, "Termination started"), parameters=(CLUSTER_NAME, REGION, FORCE),
          errors=_CLUSTER_READ_ERRORS, tag="Cluster Instances"),
    Route("GET", "/v3/clusters/{clusterName}/stackevents", "get_cluster_stack_events", "GetClusterStackEvents",
          "Retrieve the events associated with the stack for a given cluster.", "read",
          Response(200, m.GetClusterStackEventsResponseContent, "The stack events"),
          parameters=(CLUSTER_NAME, REGION, NEXT_TOKEN), errors=_CLUSTER_READ_ERRORS, tag="Cluster Logs"),
    Route("GET", "/v3/clusters/{clusterName}/logstreams", "list_cluster_log_streams", "ListClusterLogStreams",
          "Retrieve the list of log streams associated with a cluster.", "read",
          Response(200, m.ListClusterLogStreamsResponseContent, "The log streams"),
          parameters=(CLUSTER_NAME, REGION, FILTERS, NEXT_TOKEN), errors=_CLUSTER_READ_ERRORS, tag="Cluster Logs"),
    Route("GET", "/v3/clusters/{clusterName}/logstreams/{logStreamName}", "get_cluster_log_events",
          "GetClusterLogEvents", "Retrieve the events associated with a log stream.", "read",
          Response(200, m.GetClusterLogEventsResponseContent, "The log events"),
          parameters=(CLUSTER_NAME, LOG_STREAM_NAME, REGION, NEXT_TOKEN, START_FROM_HEAD, LIMIT, START_TIME,
                      END_TIME), errors=_CLUSTER_READ_ERRORS, tag="Cluster Logs"),
    Route("GET", "/v3/images/official", "list_official_images", "ListOfficialImages", "List Official ParallelCluster "
          "AMIs.", "read", Response(200, m.ListOfficialImagesResponseContent, "The images"),
          parameters=(REGION, OS, ARCHITECTURE), errors=_READ_ERRORS, tag="Image Operations"),
    Route("GET", "/v3/operations/{operationId}", "get_operation", "GetOperation", "Read a create, update or delete: "
          "its status and outcome, validation errors included (this API).", "read",
          Response(200, m.OperationResponseContent, "The operation"), parameters=(OPERATION_ID,),
          errors=(BAD_REQUEST, _error(404, m.NotFoundExceptionResponseContent, "No such operation, or not the "
                                       "caller's"), *_COMMON), tag="Operations"),
    Route("POST", LEGACY_PATH, "legacy_pcluster", "LegacyPcluster", "The 2020 post's form: a pcluster command in "
          "the query, the configuration (pcluster 3 YAML) base64-encoded in the body, flags in the "
          "additional_parameters header. Answers as the /v3 operation the command maps to.", "write",
          Response(200, None, "status (DescribeCluster), list (ListClusters), start and stop "
                   "(UpdateComputeFleet)"),
          parameters=(LEGACY_COMMAND, LEGACY_CLUSTER_NAME, ADDITIONAL_PARAMETERS),
          errors=(BAD_REQUEST, NOT_FOUND, CONFLICT, DRYRUN_SUCCEEDED, *_COMMON), tag="Legacy",
          extra_success=(Response(202, m.ClusterOperationAcceptedResponseContent, "create and delete: " + _ACCEPTED),)),
)

# What the legacy route's 200 carries, by command (the OpenAPI document lists them as oneOf).
LEGACY_OK_MODELS: tuple[type, ...] = (m.DescribeClusterResponseContent, m.ListClustersResponseContent,
                                      m.UpdateComputeFleetResponseContent)

ROUTES_BY_FUNCTION: dict[str, Route] = {route.function: route for route in ROUTES}
# The functions the workflow runs: not routes, but part of the same package.
WORKFLOW_FUNCTIONS: tuple[str, ...] = ("submit_operation", "poll_cluster", "record_outcome")
FUNCTIONS: tuple[str, ...] = (*ROUTES_BY_FUNCTION, *WORKFLOW_FUNCTIONS)
# Functions that never call pcluster.lib (nor import PyYAML): they run without the ParallelCluster
# layer (arm64, the suite's Python). Every other function needs the layer.
FUNCTIONS_WITHOUT_PCLUSTER: frozenset[str] = frozenset({"get_operation", "record_outcome"})


def route(function: str) -> Route:
    return ROUTES_BY_FUNCTION[function]


def scope_name(scope: Scope, resource_server: str = RESOURCE_SERVER) -> str:
    return f"{resource_server}/{scope}"


def default_permissions(resource_server: str = RESOURCE_SERVER) -> list[dict[str, str]]:
    """The authorizer's permissions mapping: each route is granted by its own scope and by admin.

    One entry per (route, scope), so a token holding any of the scopes that grant a route gets it.
    """
    permissions = []
    for entry in ROUTES:
        for scope in dict.fromkeys((entry.scope, "admin")):
            permissions.append({"method": entry.method, "resource": entry.path,
                                "scope": scope_name(scope, resource_server)})
    return permissions

"""Request and response models of the API, once, as dataclasses. Pure: no imports beyond the stdlib.

The ParallelCluster 3 models keep the names, fields (camelCase), enums and required fields of the
official spec (``api/spec/openapi/ParallelCluster.openapi.yaml`` in aws/aws-parallelcluster, as
packaged in aws-parallelcluster 3.16.1). What this API adds, because create, update and delete
run in a workflow instead of inside the request, is marked "this API": the operation resource
(``GET /v3/operations/{operationId}``), the 202 body that names the operation, and an
``operationId`` on the dry-run answers. ``schema`` turns them into JSON Schema and OpenAPI.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

from .schema import constrained

# The aws-parallelcluster release whose spec these models follow (and the default the stack deploys).
PARALLELCLUSTER_VERSION = "3.16.1"
CLUSTER_NAME_PATTERN = "^[a-zA-Z][a-zA-Z0-9-]+$"
# ParallelCluster's own limit (pcluster.constants.PCLUSTER_NAME_MAX_LENGTH); its validator says so
# only after minutes of validation, the model says it at once.
CLUSTER_NAME_MAX_LENGTH = 60
SUPPRESS_VALIDATORS_PATTERN = "^(ALL|type:[A-Za-z0-9]+)$"
OPERATION_ID_PATTERN = "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
DATE_TIME = "date-time"


def _cluster_name() -> str:
    return constrained(description="Name of the cluster.", pattern=CLUSTER_NAME_PATTERN,
                       max_length=CLUSTER_NAME_MAX_LENGTH)


def _timestamp(description: str, *, optional: bool = False) -> str:
    if optional:
        return constrained(description=description, format=DATE_TIME, default=None)
    return constrained(description=description, format=DATE_TIME)


# Enums of the spec.
class ClusterStatus(str, Enum):
    CREATE_IN_PROGRESS = "CREATE_IN_PROGRESS"
    CREATE_FAILED = "CREATE_FAILED"
    CREATE_COMPLETE = "CREATE_COMPLETE"
    DELETE_IN_PROGRESS = "DELETE_IN_PROGRESS"
    DELETE_FAILED = "DELETE_FAILED"
    DELETE_COMPLETE = "DELETE_COMPLETE"
    UPDATE_IN_PROGRESS = "UPDATE_IN_PROGRESS"
    UPDATE_COMPLETE = "UPDATE_COMPLETE"
    UPDATE_FAILED = "UPDATE_FAILED"


class ClusterStatusFilteringOption(str, Enum):
    CREATE_IN_PROGRESS = "CREATE_IN_PROGRESS"
    CREATE_FAILED = "CREATE_FAILED"
    CREATE_COMPLETE = "CREATE_COMPLETE"
    DELETE_IN_PROGRESS = "DELETE_IN_PROGRESS"
    DELETE_FAILED = "DELETE_FAILED"
    UPDATE_IN_PROGRESS = "UPDATE_IN_PROGRESS"
    UPDATE_COMPLETE = "UPDATE_COMPLETE"
    UPDATE_FAILED = "UPDATE_FAILED"


class CloudFormationStackStatus(str, Enum):
    CREATE_IN_PROGRESS = "CREATE_IN_PROGRESS"
    CREATE_FAILED = "CREATE_FAILED"
    CREATE_COMPLETE = "CREATE_COMPLETE"
    IMPORT_IN_PROGRESS = "IMPORT_IN_PROGRESS"
    IMPORT_COMPLETE = "IMPORT_COMPLETE"
    IMPORT_ROLLBACK_IN_PROGRESS = "IMPORT_ROLLBACK_IN_PROGRESS"
    IMPORT_ROLLBACK_FAILED = "IMPORT_ROLLBACK_FAILED"
    IMPORT_ROLLBACK_COMPLETE = "IMPORT_ROLLBACK_COMPLETE"
    ROLLBACK_IN_PROGRESS = "ROLLBACK_IN_PROGRESS"
    ROLLBACK_FAILED = "ROLLBACK_FAILED"
    ROLLBACK_COMPLETE = "ROLLBACK_COMPLETE"
    DELETE_IN_PROGRESS = "DELETE_IN_PROGRESS"
    DELETE_FAILED = "DELETE_FAILED"
    DELETE_COMPLETE = "DELETE_COMPLETE"
    REVIEW_IN_PROGRESS = "REVIEW_IN_PROGRESS"
    UPDATE_IN_PROGRESS = "UPDATE_IN_PROGRESS"
    UPDATE_COMPLETE_CLEANUP_IN_PROGRESS = "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS"
    UPDATE_COMPLETE = "UPDATE_COMPLETE"
    UPDATE_FAILED = "UPDATE_FAILED"
    UPDATE_ROLLBACK_IN_PROGRESS = "UPDATE_ROLLBACK_IN_PROGRESS"
    UPDATE_ROLLBACK_FAILED = "UPDATE_ROLLBACK_FAILED"
    UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS = "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS"
    UPDATE_ROLLBACK_COMPLETE = "UPDATE_ROLLBACK_COMPLETE"


class CloudFormationResourceStatus(str, Enum):
    CREATE_IN_PROGRESS = "CREATE_IN_PROGRESS"
    CREATE_FAILED = "CREATE_FAILED"
    CREATE_COMPLETE = "CREATE_COMPLETE"
    DELETE_IN_PROGRESS = "DELETE_IN_PROGRESS"
    DELETE_FAILED = "DELETE_FAILED"
    DELETE_COMPLETE = "DELETE_COMPLETE"
    DELETE_SKIPPED = "DELETE_SKIPPED"
    UPDATE_IN_PROGRESS = "UPDATE_IN_PROGRESS"
    UPDATE_FAILED = "UPDATE_FAILED"
    UPDATE_COMPLETE = "UPDATE_COMPLETE"
    IMPORT_FAILED = "IMPORT_FAILED"
    IMPORT_COMPLETE = "IMPORT_COMPLETE"
    IMPORT_IN_PROGRESS = "IMPORT_IN_PROGRESS"
    IMPORT_ROLLBACK_IN_PROGRESS = "IMPORT_ROLLBACK_IN_PROGRESS"
    IMPORT_ROLLBACK_FAILED = "IMPORT_ROLLBACK_FAILED"
    IMPORT_ROLLBACK_COMPLETE = "IMPORT_ROLLBACK_COMPLETE"


class ComputeFleetStatus(str, Enum):
    START_REQUESTED = "START_REQUESTED"
    STARTING = "STARTING"
    RUNNING = "RUNNING"
    PROTECTED = "PROTECTED"
    STOP_REQUESTED = "STOP_REQUESTED"
    STOPPING = "STOPPING"
    STOPPED = "STOPPED"
    UNKNOWN = "UNKNOWN"
    ENABLED = "ENABLED"
    DISABLED = "DISABLED"


class RequestedComputeFleetStatus(str, Enum):
    """START_REQUESTED and STOP_REQUESTED for Slurm, ENABLED and DISABLED for AWS Batch."""

    START_REQUESTED = "START_REQUESTED"
    STOP_REQUESTED = "STOP_REQUESTED"
    ENABLED = "ENABLED"
    DISABLED = "DISABLED"


class ValidationLevel(str, Enum):
    INFO = "INFO"
    WARNING = "WARNING"
    ERROR = "ERROR"


class NodeType(str, Enum):
    HeadNode = "HeadNode"
    ComputeNode = "ComputeNode"
    LoginNode = "LoginNode"


class InstanceState(str, Enum):
    pending = "pending"
    running = "running"
    shutting_down = "shutting-down"
    terminated = "terminated"
    stopping = "stopping"
    stopped = "stopped"


class LoginNodesState(str, Enum):
    pending = "pending"
    active = "active"
    failed = "failed"


# Enums of this API.
class OperationKind(str, Enum):
    """Which ParallelCluster operation a workflow runs."""

    CREATE_CLUSTER = "CREATE_CLUSTER"
    UPDATE_CLUSTER = "UPDATE_CLUSTER"
    DELETE_CLUSTER = "DELETE_CLUSTER"


class OperationStatus(str, Enum):
    """PENDING: accepted, not yet handed to ParallelCluster. IN_PROGRESS: ParallelCluster accepted it
    and the stack is changing. Terminal: SUCCEEDED, FAILED (validation errors, a CloudFormation
    failure, a workflow error), DRYRUN_SUCCEEDED (a dry run that would have succeeded)."""

    PENDING = "PENDING"
    IN_PROGRESS = "IN_PROGRESS"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    DRYRUN_SUCCEEDED = "DRYRUN_SUCCEEDED"


TERMINAL_OPERATION_STATUSES = frozenset({
    OperationStatus.SUCCEEDED, OperationStatus.FAILED, OperationStatus.DRYRUN_SUCCEEDED})


class LegacyCommand(str, Enum):
    """The commands of the 2020 post's ``POST /pcluster`` form."""

    create = "create"
    status = "status"
    delete = "delete"
    list = "list"
    start = "start"
    stop = "stop"


# Shared shapes of the spec.
@dataclass(frozen=True, kw_only=True)
class Tag:
    key: str | None = None
    value: str | None = None


@dataclass(frozen=True, kw_only=True)
class Metadata:
    name: str | None = None
    version: str | None = None


@dataclass(frozen=True, kw_only=True)
class Scheduler:
    type: str
    metadata: Metadata | None = None


@dataclass(frozen=True, kw_only=True)
class ClusterInfoSummary:
    clusterName: str = _cluster_name()
    region: str = constrained(description="AWS Region where the cluster is created.")
    version: str = constrained(description="ParallelCluster version used to create the cluster.")
    cloudformationStackArn: str = constrained(description="ARN of the main CloudFormation stack.")
    cloudformationStackStatus: CloudFormationStackStatus
    clusterStatus: ClusterStatus
    scheduler: Scheduler | None = None


@dataclass(frozen=True, kw_only=True)
class ConfigValidationMessage:
    id: str | None = constrained(description="Id of the validator.", default=None)
    type: str | None = constrained(description="Type of the validator.", default=None)
    level: ValidationLevel | None = None
    message: str | None = constrained(description="Validation message.", default=None)


@dataclass(frozen=True, kw_only=True)
class Change:
    parameter: str | None = None
    currentValue: str | None = None
    requestedValue: str | None = None


@dataclass(frozen=True, kw_only=True)
class UpdateError:
    parameter: str | None = None
    currentValue: str | None = None
    requestedValue: str | None = None
    message: str | None = None


@dataclass(frozen=True, kw_only=True)
class Failure:
    failureCode: str | None = constrained(description="Failure code when the cluster stack is in CREATE_FAILED.",
                                          default=None)
    failureReason: str | None = constrained(description="Failure reason when the cluster stack is in CREATE_FAILED.",
                                            default=None)


@dataclass(frozen=True, kw_only=True)
class EC2Instance:
    instanceId: str
    instanceType: str
    launchTime: str = _timestamp("When the instance was launched.")
    privateIpAddress: str
    publicIpAddress: str | None = None
    state: InstanceState


@dataclass(frozen=True, kw_only=True)
class LoginNodesPool:
    status: LoginNodesState
    poolName: str | None = None
    address: str | None = None
    scheme: str | None = None
    healthyNodes: int | None = None
    unhealthyNodes: int | None = None


@dataclass(frozen=True, kw_only=True)
class ClusterConfigurationStructure:
    url: str | None = constrained(description="URL of the cluster configuration file.", default=None)


@dataclass(frozen=True, kw_only=True)
class ClusterInstance:
    instanceId: str
    instanceType: str
    launchTime: str = _timestamp("When the instance was launched.")
    privateIpAddress: str
    publicIpAddress: str | None = None
    state: InstanceState
    nodeType: NodeType
    queueName: str | None = None


@dataclass(frozen=True, kw_only=True)
class LogStream:
    logStreamName: str
    creationTime: str = _timestamp("When the stream was created.")
    firstEventTimestamp: str = _timestamp("The time of the first event of the stream.")
    lastEventTimestamp: str = _timestamp("The time of the last event of the stream.")
    lastIngestionTime: str = _timestamp("The last ingestion time.")
    uploadSequenceToken: str
    logStreamArn: str


@dataclass(frozen=True, kw_only=True)
class LogEvent:
    timestamp: str = _timestamp("When the event happened.")
    message: str


@dataclass(frozen=True, kw_only=True)
class StackEvent:
    stackId: str
    eventId: str
    stackName: str
    logicalResourceId: str
    physicalResourceId: str
    resourceType: str
    timestamp: str = _timestamp("Time the status was updated.")
    resourceStatus: CloudFormationResourceStatus
    resourceStatusReason: str | None = None
    resourceProperties: str | None = None
    clientRequestToken: str | None = None


@dataclass(frozen=True, kw_only=True)
class AmiInfo:
    architecture: str
    amiId: str
    name: str
    os: str
    version: str


# Requests.
@dataclass(frozen=True, kw_only=True)
class CreateClusterRequestContent:
    """Body of POST /v3/clusters."""

    clusterName: str = _cluster_name()
    clusterConfiguration: str = constrained(description="Cluster configuration as a YAML document.", min_length=1)


@dataclass(frozen=True, kw_only=True)
class UpdateClusterRequestContent:
    """Body of PUT /v3/clusters/{clusterName}."""

    clusterConfiguration: str = constrained(description="Cluster configuration as a YAML document.", min_length=1)


@dataclass(frozen=True, kw_only=True)
class UpdateComputeFleetRequestContent:
    """Body of PATCH /v3/clusters/{clusterName}/computefleet."""

    status: RequestedComputeFleetStatus


# Responses of the spec.
@dataclass(frozen=True, kw_only=True)
class ListClustersResponseContent:
    nextToken: str | None = constrained(description="Token to use for paginated requests.", default=None)
    clusters: list[ClusterInfoSummary]


@dataclass(frozen=True, kw_only=True)
class DescribeClusterResponseContent:
    clusterName: str = _cluster_name()
    region: str
    version: str
    cloudFormationStackStatus: CloudFormationStackStatus
    clusterStatus: ClusterStatus
    scheduler: Scheduler | None = None
    cloudformationStackArn: str
    creationTime: str = _timestamp("Timestamp representing the cluster creation time.")
    lastUpdatedTime: str = _timestamp("Timestamp representing the last cluster update time.")
    clusterConfiguration: ClusterConfigurationStructure
    computeFleetStatus: ComputeFleetStatus
    tags: list[Tag]
    headNode: EC2Instance | None = None
    loginNodes: list[LoginNodesPool] | None = None
    failures: list[Failure] | None = None


@dataclass(frozen=True, kw_only=True)
class DescribeComputeFleetResponseContent:
    status: ComputeFleetStatus
    lastStatusUpdatedTime: str | None = _timestamp("Last time the compute fleet status changed.", optional=True)


@dataclass(frozen=True, kw_only=True)
class UpdateComputeFleetResponseContent:
    status: ComputeFleetStatus
    lastStatusUpdatedTime: str | None = _timestamp("Last time the compute fleet status changed.", optional=True)


@dataclass(frozen=True, kw_only=True)
class DescribeClusterInstancesResponseContent:
    nextToken: str | None = None
    instances: list[ClusterInstance]


@dataclass(frozen=True, kw_only=True)
class GetClusterStackEventsResponseContent:
    nextToken: str | None = None
    events: list[StackEvent] | None = None


@dataclass(frozen=True, kw_only=True)
class ListClusterLogStreamsResponseContent:
    nextToken: str | None = None
    logStreams: list[LogStream]


@dataclass(frozen=True, kw_only=True)
class GetClusterLogEventsResponseContent:
    nextToken: str | None = None
    prevToken: str | None = None
    events: list[LogEvent] | None = None


@dataclass(frozen=True, kw_only=True)
class ListOfficialImagesResponseContent:
    images: list[AmiInfo]


@dataclass(frozen=True, kw_only=True)
class CreateClusterResponseContent:
    """What ParallelCluster answers to a create it accepted (kept in the operation)."""

    cluster: ClusterInfoSummary
    validationMessages: list[ConfigValidationMessage] | None = None


@dataclass(frozen=True, kw_only=True)
class UpdateClusterResponseContent:
    """What ParallelCluster answers to an update it accepted (kept in the operation)."""

    cluster: ClusterInfoSummary
    validationMessages: list[ConfigValidationMessage] | None = None
    changeSet: list[Change]


@dataclass(frozen=True, kw_only=True)
class DeleteClusterResponseContent:
    """What ParallelCluster answers to a delete it accepted (kept in the operation)."""

    cluster: ClusterInfoSummary


# Errors: {message}, and the spec's richer 400 and 412 bodies.
@dataclass(frozen=True, kw_only=True)
class BadRequestExceptionResponseContent:
    message: str | None = None


@dataclass(frozen=True, kw_only=True)
class UnauthorizedClientErrorResponseContent:
    message: str | None = None


@dataclass(frozen=True, kw_only=True)
class ForbiddenResponseContent:
    """API Gateway's answer when the token's scopes do not grant the route (this API)."""

    message: str | None = None


@dataclass(frozen=True, kw_only=True)
class NotFoundExceptionResponseContent:
    message: str | None = None


@dataclass(frozen=True, kw_only=True)
class ConflictExceptionResponseContent:
    message: str | None = None


@dataclass(frozen=True, kw_only=True)
class LimitExceededExceptionResponseContent:
    message: str | None = None


@dataclass(frozen=True, kw_only=True)
class InternalServiceExceptionResponseContent:
    message: str | None = None


@dataclass(frozen=True, kw_only=True)
class GatewayTimeoutResponseContent:
    """ParallelCluster did not answer in time; the request may still take effect (this API)."""

    message: str | None = None


_OPERATION_ID_OF_DRYRUN = "The operation that ran the dry run (this API)."


@dataclass(frozen=True, kw_only=True)
class CreateClusterBadRequestExceptionResponseContent:
    message: str | None = None
    configurationValidationErrors: list[ConfigValidationMessage] | None = None
    operationId: str | None = constrained(description=_OPERATION_ID_OF_DRYRUN, pattern=OPERATION_ID_PATTERN,
                                          default=None)


@dataclass(frozen=True, kw_only=True)
class UpdateClusterBadRequestExceptionResponseContent:
    message: str | None = None
    configurationValidationErrors: list[ConfigValidationMessage] | None = None
    updateValidationErrors: list[UpdateError] | None = None
    changeSet: list[Change] | None = None
    operationId: str | None = constrained(description=_OPERATION_ID_OF_DRYRUN, pattern=OPERATION_ID_PATTERN,
                                          default=None)


@dataclass(frozen=True, kw_only=True)
class DryrunOperationExceptionResponseContent:
    """412: the dry run would have succeeded."""

    message: str | None = None
    changeSet: list[Change] | None = None
    validationMessages: list[ConfigValidationMessage] | None = None
    operationId: str | None = constrained(description=_OPERATION_ID_OF_DRYRUN, pattern=OPERATION_ID_PATTERN,
                                          default=None)


# The operation resource (this API).
@dataclass(frozen=True, kw_only=True)
class PendingClusterSummary:
    """The spec's ClusterInfoSummary as far as it is known when the request is accepted: a cluster
    that is being created has no stack yet, so no ARN."""

    clusterName: str = _cluster_name()
    region: str
    version: str | None = None
    cloudformationStackArn: str | None = None
    cloudformationStackStatus: CloudFormationStackStatus | None = None
    clusterStatus: ClusterStatus | None = None
    scheduler: Scheduler | None = None


@dataclass(frozen=True, kw_only=True)
class ClusterOperationAcceptedResponseContent:
    """202 of create, update and delete: the request passed the fast checks and its workflow started.
    Read the outcome, validation errors included, at ``GET /v3/operations/{operationId}``."""

    operationId: str = constrained(pattern=OPERATION_ID_PATTERN)
    operation: OperationKind
    clusterName: str = _cluster_name()
    status: OperationStatus
    dryrun: bool
    cluster: PendingClusterSummary | None = None
    message: str | None = None


@dataclass(frozen=True, kw_only=True)
class OperationResponseContent:
    """A create, update or delete: where it is, and how it ended."""

    operationId: str = constrained(pattern=OPERATION_ID_PATTERN)
    operation: OperationKind
    clusterName: str = _cluster_name()
    status: OperationStatus
    dryrun: bool
    owner: str = constrained(description="Subject (sub) of the caller who asked for the operation.")
    createdAt: str = _timestamp("When the operation was accepted.")
    updatedAt: str = _timestamp("When the operation last changed.")
    parameters: dict[str, Any] | None = constrained(
        description="The ParallelCluster options of the request (dryrun aside).", default=None)
    message: str | None = None
    errorCode: int | None = constrained(description="HTTP status ParallelCluster answered when it refused the "
                                                    "request (400 validation, 409 conflict, ...).", default=None)
    configurationValidationErrors: list[ConfigValidationMessage] | None = None
    updateValidationErrors: list[UpdateError] | None = None
    changeSet: list[Change] | None = None
    validationMessages: list[ConfigValidationMessage] | None = None
    cluster: PendingClusterSummary | None = None
    clusterStatus: ClusterStatus | None = None
    cloudFormationStackStatus: CloudFormationStackStatus | None = None
    failures: list[Failure] | None = None

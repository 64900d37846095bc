"""POST /v3/clusters: check the name, the configuration and conflicts, claim the name for the
caller, start the workflow and answer 202 with the operation (a dry run: 412 or 400 if it ends in time)."""

from ..models import CreateClusterRequestContent, OperationKind
from ..shared.clusters import operation_route

handler = operation_route("create_cluster", OperationKind.CREATE_CLUSTER, CreateClusterRequestContent)

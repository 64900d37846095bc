"""DELETE /v3/clusters/{clusterName}: lock the caller's cluster, start the workflow and answer 202
with the operation."""

from ..models import OperationKind
from ..shared.clusters import operation_route

handler = operation_route("delete_cluster", OperationKind.DELETE_CLUSTER, None)

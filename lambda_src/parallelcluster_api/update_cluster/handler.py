"""PUT /v3/clusters/{clusterName}: check the configuration, lock the caller's cluster, start the
workflow and answer 202 with the operation (a dry run: 412 or 400 if it ends in time)."""

from ..models import OperationKind, UpdateClusterRequestContent
from ..shared.clusters import operation_route

handler = operation_route("update_cluster", OperationKind.UPDATE_CLUSTER, UpdateClusterRequestContent)

"""Where an operation stands, from the cluster's status (ParallelCluster's ``clusterStatus``). Pure.

A create ends with CREATE_COMPLETE or CREATE_FAILED (ParallelCluster reports a rollback as
CREATE_FAILED), an update with UPDATE_COMPLETE or UPDATE_FAILED (a rolled-back update), a delete
when the cluster is gone (DELETE_COMPLETE, or not found) or DELETE_FAILED. Any other *_FAILED, or
a cluster that is being deleted under a create or update, ends it as FAILED; every other status
means keep polling.
"""
from __future__ import annotations

from ..models import ClusterStatus, OperationKind, OperationStatus

_SUCCESS = {
    OperationKind.CREATE_CLUSTER.value: ClusterStatus.CREATE_COMPLETE.value,
    OperationKind.UPDATE_CLUSTER.value: ClusterStatus.UPDATE_COMPLETE.value,
    OperationKind.DELETE_CLUSTER.value: ClusterStatus.DELETE_COMPLETE.value,
}
_DELETING = {ClusterStatus.DELETE_IN_PROGRESS.value, ClusterStatus.DELETE_COMPLETE.value}


def progress(operation: str, cluster_status: str | None) -> OperationStatus:
    """The operation's status when the cluster's status is ``cluster_status`` (None: not found)."""
    if cluster_status is None:
        return OperationStatus.SUCCEEDED if operation == OperationKind.DELETE_CLUSTER.value else OperationStatus.FAILED
    if cluster_status == _SUCCESS[operation]:
        return OperationStatus.SUCCEEDED
    if cluster_status.endswith("_FAILED"):
        return OperationStatus.FAILED
    if operation != OperationKind.DELETE_CLUSTER.value and cluster_status in _DELETING:
        return OperationStatus.FAILED
    return OperationStatus.IN_PROGRESS


def message(operation: str, cluster_status: str | None, status: OperationStatus) -> str | None:
    if status is OperationStatus.IN_PROGRESS:
        return None
    if cluster_status is None:
        return ("The cluster was deleted." if status is OperationStatus.SUCCEEDED
                else "The cluster no longer exists.")
    return f"The cluster reached {cluster_status}."

"""The JSON the ClusterOperation state machine passes from state to state. Pure.

    execution input (written by create/update/delete_cluster and legacy_pcluster):
      {"operationId": "<uuid>", "operation": "CREATE_CLUSTER" | "UPDATE_CLUSTER" | "DELETE_CLUSTER",
       "clusterName": "<name>", "dryrun": false}
    added by submit_operation:  "status" (an OperationStatus), "pollUntil" (epoch seconds), "polls": 0
    added by poll_cluster:      "status", "polls" (+1), "clusterStatus" (ParallelCluster's, or null)
    added by a Catch:           "error": {"Error": "<name>", "Cause": "<text>"} (ResultPath "$.error")

Each workflow function returns the whole state with its additions, so the state machine passes
the Lambda payload on as it is (LambdaInvoke ``payloadResponseOnly``, no ResultSelector).
"""
from __future__ import annotations

from typing import Any, Mapping

from ..models import CLUSTER_NAME_PATTERN, OPERATION_ID_PATTERN, OperationKind, OperationStatus
from ..schema import python_pattern

_OPERATION_ID = python_pattern(OPERATION_ID_PATTERN)
_CLUSTER_NAME = python_pattern(CLUSTER_NAME_PATTERN)


class InvalidState(ValueError):
    """The state is not one this workflow writes: a wiring error, never retried."""


def checked_state(event: Mapping[str, Any]) -> dict[str, Any]:
    """``event`` after checking the fields every state relies on."""
    if not isinstance(event, Mapping):
        raise InvalidState("the state must be a JSON object")
    operation_id, cluster_name = event.get("operationId"), event.get("clusterName")
    if not isinstance(operation_id, str) or not _OPERATION_ID.search(operation_id):
        raise InvalidState("operationId must be an operation id")
    if not isinstance(cluster_name, str) or not _CLUSTER_NAME.search(cluster_name):
        raise InvalidState("clusterName must be a cluster name")
    if event.get("operation") not in {kind.value for kind in OperationKind}:
        raise InvalidState("operation must be an OperationKind")
    if "status" in event and event["status"] not in {status.value for status in OperationStatus}:
        raise InvalidState("status must be an OperationStatus")
    return dict(event)

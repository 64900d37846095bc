"""Workflow state PollCluster (after a Wait): where the cluster stands (pcluster.lib
describe_cluster), recorded in the operation.

Input: submit_operation's or the previous poll's output (``status`` IN_PROGRESS).
Output: the input with ``"status"`` (IN_PROGRESS: wait and poll again; SUCCEEDED or FAILED: record
the outcome), ``"clusterStatus"`` (ParallelCluster's, null when the cluster is not found) and
``"polls"`` + 1. Past ``pollUntil`` the operation FAILS as timed out (the cluster may still get
there: describe it). Throttling keeps the status IN_PROGRESS (the next poll tries again).
"""

from __future__ import annotations

from typing import Any

from ..models import OperationStatus
from ..shared import operations, pcluster
from ..shared.handlers import count, workflow_handler
from ..shared.timestamps import epoch_seconds
from ..shared.workflow import checked_state
from . import logic

_IN_PROGRESS = {OperationStatus.IN_PROGRESS.value}


def _description(cluster_name: str) -> dict[str, Any] | None:
    try:
        return pcluster.call("describe_cluster", cluster_name=cluster_name)
    except pcluster.PclusterError as error:
        if error.status == 404:
            return None
        raise


@workflow_handler
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    state = checked_state(event)
    polls = int(state.get("polls", 0)) + 1
    try:
        description = _description(state["clusterName"])
    except pcluster.PclusterError as error:
        if error.status != 429:
            raise
        count("PollsThrottled")
        return {**state, "status": OperationStatus.IN_PROGRESS.value, "polls": polls}
    cluster_status = description.get("clusterStatus") if description is not None else None
    status = logic.progress(state["operation"], cluster_status)
    fields: dict[str, Any] = {"status": status.value, "clusterStatus": cluster_status}
    if description is not None:
        fields.update(cloudFormationStackStatus=description.get("cloudFormationStackStatus"),
                      failures=description.get("failures"))
    if status is OperationStatus.IN_PROGRESS and epoch_seconds() > int(state.get("pollUntil", 0)):
        status = OperationStatus.FAILED
        fields.update(status=status.value, message=f"The cluster did not reach a final status in time (last: "
                                                     f"{cluster_status}); describe it to follow it further.")
    elif (text := logic.message(state["operation"], cluster_status, status)) is not None:
        fields["message"] = text
    operations.update(state["operationId"], expected=_IN_PROGRESS,
                      fields={key: value for key, value in fields.items() if value is not None})
    return {**state, "status": status.value, "clusterStatus": cluster_status, "polls": polls}

"""Workflow state SubmitOperation: hand the operation to ParallelCluster (pcluster.lib
create_cluster, update_cluster or delete_cluster) and record its answer.

Input: the execution input, ``{"operationId", "operation", "clusterName", "dryrun"}``.
Output: the input plus ``"status"`` (IN_PROGRESS: poll the cluster; FAILED, DRYRUN_SUCCEEDED or
SUCCEEDED: record the outcome), ``"pollUntil"`` (epoch seconds after which polling gives up) and
``"polls": 0``. Raises ``ParallelClusterThrottled`` (retry it, with backoff) when throttled.

Runs once per operation: an operation that is no longer PENDING is not submitted again (a retried
state answers with the recorded status), and one whose earlier attempt was cut short after it
started submitting goes on to polling instead of submitting twice. The configuration is read from
the operation's item, checked again, and given the owner tag. Give it Lambda's longest timeout
(ParallelCluster's validators can run for minutes) and retry it only on ParallelClusterThrottled
and on Lambda's own service errors.
"""

from __future__ import annotations

from typing import Any

from ..models import OperationKind, OperationStatus
from ..shared import operations, pcluster
from ..shared.clusters import checked_configuration
from ..shared.handlers import count, logger, workflow_handler
from ..shared.http import BadRequest
from ..shared.settings import settings
from ..shared.timestamps import epoch_seconds, now_iso
from ..shared.workflow import InvalidState, checked_state
from . import logic

_FUNCTIONS = {OperationKind.CREATE_CLUSTER.value: "create_cluster",
              OperationKind.UPDATE_CLUSTER.value: "update_cluster",
              OperationKind.DELETE_CLUSTER.value: "delete_cluster"}


def _submit(item: dict[str, Any]) -> tuple[OperationStatus, dict[str, Any]]:
    keywords = logic.pcluster_keywords(item)
    try:
        if item["operation"] != OperationKind.DELETE_CLUSTER.value:
            keywords["cluster_configuration"] = checked_configuration(item.get("configuration", ""),
                                                                      owner=item["tagOwner"])
    except BadRequest as error:  # checked when the request was accepted: only a changed setting gets here
        return logic.refused(item["operation"], 400, {"message": str(error)})
    try:
        answer = pcluster.call(_FUNCTIONS[item["operation"]], cluster_name=item["clusterName"], **keywords)
    except pcluster.DryrunSucceeded as dryrun:
        return logic.dryrun_succeeded(dryrun.body)
    except pcluster.PclusterError as error:
        return logic.refused(item["operation"], error.status, error.body)
    return logic.accepted(answer or {})


@workflow_handler
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    state = checked_state(event)
    item = operations.get(state["operationId"])
    if item is None:
        raise InvalidState(f"operation {state['operationId']} does not exist")
    poll_until = epoch_seconds() + settings().operation_timeout_seconds
    if item["status"] != OperationStatus.PENDING.value:
        logger.info("operation already submitted", extra={"status": item["status"]})
        return {**state, "status": item["status"], "pollUntil": poll_until, "polls": 0}
    if item.get("submittedAt") and not item["dryrun"]:
        # An earlier attempt may have reached ParallelCluster before it was cut short: submitting
        # again could fail on what it started. Polling tells what happened.
        status, fields = OperationStatus.IN_PROGRESS, {"message": "Resumed after an interrupted submission."}
    else:
        operations.update(state["operationId"], expected={OperationStatus.PENDING.value},
                          fields={"submittedAt": now_iso()})
        status, fields = _submit(item)
    operations.update(state["operationId"], expected={OperationStatus.PENDING.value},
                      fields={"status": status.value, **fields})
    count(f"Submitted{status.value.title().replace('_', '')}")
    return {**state, "status": status.value, "pollUntil": poll_until, "polls": 0}

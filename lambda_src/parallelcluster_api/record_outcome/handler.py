"""Workflow state RecordOutcome, the last one: the operation's final status, and the cluster's item
given back (lock released, or the item deleted when the cluster is gone or was never made).

Input: the output of submit_operation or poll_cluster once ``status`` is not IN_PROGRESS, or the
state a Catch passes (``"error": {"Error", "Cause"}`` at ResultPath ``$.error``) after a failed
submit or poll, which ends the operation as FAILED.
Output: ``{"operationId", "status"}`` (the recorded final status).
"""

from __future__ import annotations

from typing import Any

from ..models import OperationStatus
from ..shared import operations, ownership
from ..shared.handlers import count, logger, workflow_handler
from ..shared.workflow import InvalidState, checked_state
from . import logic

MAX_CAUSE = 500


@workflow_handler
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    state = checked_state(event)
    operation_id = state["operationId"]
    error = state.get("error")
    if error is not None or state.get("status") in operations.NON_TERMINAL:
        name = error.get("Error", "an error") if isinstance(error, dict) else "no final status"
        logger.error("operation failed in the workflow", extra={"error": name,
                                                                 "cause": str((error or {}).get("Cause"))[:MAX_CAUSE]})
        operations.update(operation_id, expected=operations.NON_TERMINAL, fields={
            "status": OperationStatus.FAILED.value, "message": f"The workflow failed ({name}): the cluster may "
                                                              "have changed; describe it."})
    item = operations.get(operation_id)
    if item is None:
        raise InvalidState(f"operation {operation_id} does not exist")
    action = logic.ownership_action(item)
    if action == "forget":
        ownership.forget(item["clusterName"], operation_id)
    elif action == "release":
        ownership.release(item["clusterName"], operation_id)
    count(f"Operations{item['status'].title().replace('_', '')}")
    return {"operationId": operation_id, "status": item["status"]}

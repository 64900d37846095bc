"""What an ended operation means for the cluster's item in the Clusters table. Pure.

- forget (delete the item): a delete that succeeded; a create that ParallelCluster refused with
  400 or 409 (no stack was made for it, or the name belongs to a stack made elsewhere);
- release (end the lock, keep the owner): everything else, a create that failed in CloudFormation
  included (its owner deletes it), and any workflow error (a stack may exist: a later create of the
  name takes a stale item over only when ParallelCluster says the cluster does not exist);
- nothing for a dry run, which never took the cluster.
"""
from __future__ import annotations

from typing import Any, Literal, Mapping

from ..models import OperationKind, OperationStatus

Action = Literal["forget", "release", "nothing"]
_NO_STACK_MADE = frozenset({400, 409})


def ownership_action(item: Mapping[str, Any]) -> Action:
    if item.get("dryrun"):
        return "nothing"
    operation, status = item["operation"], item["status"]
    if operation == OperationKind.DELETE_CLUSTER.value and status == OperationStatus.SUCCEEDED.value:
        return "forget"
    if (operation == OperationKind.CREATE_CLUSTER.value and status == OperationStatus.FAILED.value
            and item.get("errorCode") in _NO_STACK_MADE):
        return "forget"
    return "release"

"""Who owns which cluster, and which operation holds it: the Clusters table (key ``clusterName``).

An item is written before ParallelCluster is asked to create the cluster and names its owner (the
caller's ``sub``); the cluster's configuration also gets the owner tag. ``activeOperationId`` and
``activeOperation`` name the create, update or delete in progress: at most one per cluster, taken
with a conditional write (409 otherwise) and given back by the workflow's ``record_outcome``.
A lock whose operation already ended (the workflow could not give it back) is stale and may be
taken over, again with a write conditional on exactly what was read.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

from boto3.dynamodb.conditions import Attr

from . import aws
from .settings import settings
from .timestamps import now_iso

BATCH_GET_LIMIT = 100
MAX_BATCH_ATTEMPTS = 5


@dataclass(frozen=True)
class ClusterOwnership:
    cluster_name: str
    owner: str
    created_at: str
    active_operation_id: str | None = None
    active_operation: str | None = None


def _table() -> Any:
    return aws.table(settings().clusters_table)


def _from_item(item: dict[str, Any]) -> ClusterOwnership:
    return ClusterOwnership(cluster_name=item["clusterName"], owner=item["owner"], created_at=item.get("createdAt", ""),
                            active_operation_id=item.get("activeOperationId"),
                            active_operation=item.get("activeOperation"))


def get(cluster_name: str) -> ClusterOwnership | None:
    item = _table().get_item(Key={"clusterName": cluster_name}, ConsistentRead=True).get("Item")
    return _from_item(item) if item else None


def owners(cluster_names: Iterable[str]) -> dict[str, str]:
    """The owner of each named cluster that has an item (eventually consistent)."""
    names = list(dict.fromkeys(cluster_names))
    found: dict[str, str] = {}
    table_name = settings().clusters_table
    dynamodb = aws.table(table_name).meta.client
    for start in range(0, len(names), BATCH_GET_LIMIT):
        request = {table_name: {"Keys": [{"clusterName": name} for name in names[start:start + BATCH_GET_LIMIT]],
                                "ProjectionExpression": "clusterName, #owner",
                                "ExpressionAttributeNames": {"#owner": "owner"}}}
        for _ in range(MAX_BATCH_ATTEMPTS):
            answer = dynamodb.batch_get_item(RequestItems=request)
            for item in answer.get("Responses", {}).get(table_name, []):
                found[item["clusterName"]] = item["owner"]  # the resource's client deserializes items
            request = answer.get("UnprocessedKeys") or {}
            if not request:
                break
        else:
            raise RuntimeError("DynamoDB left keys unprocessed after retries")
    return found


def _item(cluster_name: str, owner: str, operation_id: str, operation: str) -> dict[str, Any]:
    return {"clusterName": cluster_name, "owner": owner, "createdAt": now_iso(), "activeOperationId": operation_id,
            "activeOperation": operation}


def claim(cluster_name: str, *, owner: str, operation_id: str, operation: str,
          replacing: ClusterOwnership | None = None) -> bool:
    """Write the item of a cluster about to be created (or adopted): when there is none, when it is
    exactly ``replacing`` (a stale item), or when ``operation_id`` already holds it (a retry)."""
    if replacing is None:
        condition = Attr("clusterName").not_exists() | Attr("activeOperationId").eq(operation_id)
    else:
        held = (Attr("activeOperationId").not_exists() if replacing.active_operation_id is None
                else Attr("activeOperationId").eq(replacing.active_operation_id))
        condition = (Attr("owner").eq(replacing.owner) & held) | Attr("activeOperationId").eq(operation_id)
    return aws.conditional(_table().put_item, Item=_item(cluster_name, owner, operation_id, operation),
                           ConditionExpression=condition)


def lock(cluster_name: str, *, owner: str, operation_id: str, operation: str, stale_operation_id: str | None = None
         ) -> bool:
    """Make ``operation_id`` the cluster's active operation: when none is active, when it already
    is (a retry), or when the active one is ``stale_operation_id``; and only while ``owner`` owns it."""
    free = Attr("activeOperationId").not_exists() | Attr("activeOperationId").eq(operation_id)
    if stale_operation_id is not None:
        free = free | Attr("activeOperationId").eq(stale_operation_id)
    return aws.conditional(
        _table().update_item, Key={"clusterName": cluster_name},
        UpdateExpression="SET activeOperationId = :operation_id, activeOperation = :operation",
        ConditionExpression=Attr("clusterName").exists() & Attr("owner").eq(owner) & free,
        ExpressionAttributeValues={":operation_id": operation_id, ":operation": operation})


def release(cluster_name: str, operation_id: str) -> bool:
    """The operation is over: the cluster has no active operation (if it was this one's)."""
    return aws.conditional(
        _table().update_item, Key={"clusterName": cluster_name},
        UpdateExpression="REMOVE activeOperationId, activeOperation",
        ConditionExpression=Attr("activeOperationId").eq(operation_id))


def forget(cluster_name: str, operation_id: str) -> bool:
    """The cluster is gone (deleted, or never created): remove its item (if this operation holds it)."""
    return aws.conditional(_table().delete_item, Key={"clusterName": cluster_name},
                           ConditionExpression=Attr("activeOperationId").eq(operation_id))

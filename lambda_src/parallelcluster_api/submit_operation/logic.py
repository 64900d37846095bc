"""What ParallelCluster's answer to a create, update or delete means for the operation. Pure.

ParallelCluster runs its validators inside ``create_cluster`` and ``update_cluster`` and answers:
accepted (the stack is changing: IN_PROGRESS, with its validation warnings and change set), a dry
run that would succeed (412: DRYRUN_SUCCEEDED), or a refusal (400 with configuration validation
errors, 409, 404, ...: FAILED, the status kept as ``errorCode``). A delete of a cluster that is
already gone has succeeded. Throttling (429) is not an outcome: the state is retried.
"""
from __future__ import annotations

from typing import Any, Mapping

from ..models import OperationKind, OperationStatus
from ..shared.handlers import snake

_ANSWER_FIELDS = ("validationMessages", "changeSet")
_REFUSAL_FIELDS = ("message", "configurationValidationErrors", "updateValidationErrors", "changeSet")
_DRYRUN_FIELDS = ("message", "validationMessages", "changeSet")
THROTTLED = 429


class ParallelClusterThrottled(RuntimeError):
    """ParallelCluster (or an AWS API behind it) throttled the call: retry the state later. The
    state machine retries this error by name."""


def pcluster_keywords(item: Mapping[str, Any]) -> dict[str, Any]:
    """The operation's options (spec names) as pcluster.lib keywords, with its dryrun."""
    keywords = {snake(name): value for name, value in (item.get("parameters") or {}).items()}
    if item["operation"] != OperationKind.DELETE_CLUSTER.value:
        keywords["dryrun"] = bool(item.get("dryrun"))
    return keywords


def _picked(body: Mapping[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    return {name: body[name] for name in names if body.get(name) is not None}


def accepted(answer: Mapping[str, Any]) -> tuple[OperationStatus, dict[str, Any]]:
    fields = _picked(answer, _ANSWER_FIELDS)
    if isinstance(answer.get("cluster"), Mapping):
        fields["cluster"] = dict(answer["cluster"])
        if answer["cluster"].get("clusterStatus"):
            fields["clusterStatus"] = answer["cluster"]["clusterStatus"]
        if answer["cluster"].get("cloudformationStackStatus"):
            fields["cloudFormationStackStatus"] = answer["cluster"]["cloudformationStackStatus"]
    return OperationStatus.IN_PROGRESS, fields


def dryrun_succeeded(body: Mapping[str, Any]) -> tuple[OperationStatus, dict[str, Any]]:
    return OperationStatus.DRYRUN_SUCCEEDED, _picked(body, _DRYRUN_FIELDS)


def refused(operation: str, status: int, body: Mapping[str, Any]) -> tuple[OperationStatus, dict[str, Any]]:
    if status == THROTTLED:
        raise ParallelClusterThrottled(str(body.get("message", "throttled")))
    if operation == OperationKind.DELETE_CLUSTER.value and status == 404:
        return OperationStatus.SUCCEEDED, {"message": "The cluster no longer exists."}
    return OperationStatus.FAILED, {"errorCode": status, **_picked(body, _REFUSAL_FIELDS)}

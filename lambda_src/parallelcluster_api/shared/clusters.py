"""The API's cluster operations, as the /v3 routes and the legacy form share them.

Visibility: a cluster whose Clusters item names the caller is the caller's; the admin scope sees
every cluster, also those created outside this API (no item). Any other cluster answers exactly as
a cluster that does not exist (ParallelCluster's own 404 message), so names do not leak.

Create, update and delete do the fast checks here (name, configuration, region, ownership,
conflicts), write the operation, start its workflow and answer 202; the workflow does the rest.
A dry run waits up to DRYRUN_WAIT_SECONDS for the outcome and answers as the spec does (412, 400).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from .. import models
from ..models import OperationKind, OperationStatus
from . import operations, ownership, pcluster
from .deadlines import Deadline
from .handlers import ApiRequest, LambdaHandler, api_handler, ok
from .http import BadRequest, Caller, Conflict, NotFound, json_response
from .settings import settings
from .yaml_safety import ConfigurationError, parse_configuration, with_owner_tag

NOT_FOUND_MESSAGE = "Cluster '{}' does not exist or belongs to an incompatible ParallelCluster major version."
ACCEPTED_MESSAGE = "Accepted: GET /v3/operations/{} tells how it ends."


def not_found(cluster_name: str) -> NotFound:
    return NotFound(NOT_FOUND_MESSAGE.format(cluster_name))


def visible(caller: Caller, cluster_name: str) -> ownership.ClusterOwnership | None:
    """The cluster's item if the caller may see the cluster (None: no item, and the caller is an
    admin), else the 404 of a cluster that does not exist."""
    record = ownership.get(cluster_name)
    if record is not None and caller.may_see(record.owner):
        return record
    if record is None and caller.admin:
        return None
    raise not_found(cluster_name)


def cluster_call(caller: Caller, function: str, cluster_name: str, deadline: Deadline, **keywords: Any) -> Any:
    """``pcluster.lib.<function>`` for a cluster the caller may see."""
    visible(caller, cluster_name)
    return pcluster.call(function, cluster_name=cluster_name, deadline=deadline, **keywords)


def list_clusters(caller: Caller, deadline: Deadline, *, next_token: str | None = None,
                  cluster_status: list[Any] | None = None) -> dict[str, Any]:
    """ParallelCluster's page of clusters, less those the caller may not see (a page may come back
    shorter than ParallelCluster's, even empty with a nextToken)."""
    page = pcluster.call("list_clusters", deadline=deadline, next_token=next_token, cluster_status=cluster_status)
    if caller.admin:
        return page
    clusters = page.get("clusters") or []
    owners = ownership.owners(cluster["clusterName"] for cluster in clusters)
    return {**page, "clusters": [cluster for cluster in clusters if owners.get(cluster["clusterName"]) == caller.sub]}


@dataclass(frozen=True)
class OperationRequest:
    """A create, update or delete that passed the route's parsing."""

    operation: OperationKind
    cluster_name: str
    dryrun: bool = False
    # Spec query parameters (camelCase) other than dryrun and region, passed on to ParallelCluster.
    parameters: Mapping[str, Any] | None = None
    configuration: str | None = None  # YAML text (create and update)


def checked_configuration(text: str, *, owner: str) -> dict[str, Any]:
    """The configuration as ParallelCluster gets it (owner tag added), or BadRequest."""
    try:
        return with_owner_tag(parse_configuration(text, region=settings().region), key=settings().owner_tag_key,
                              owner=owner)
    except ConfigurationError as error:
        raise BadRequest(str(error)) from None


def _describe_if_exists(cluster_name: str, deadline: Deadline) -> dict[str, Any] | None:
    try:
        return pcluster.call("describe_cluster", cluster_name=cluster_name, deadline=deadline)
    except pcluster.PclusterError as error:
        if error.status == 404:
            return None
        raise


def _is_stale(record: ownership.ClusterOwnership) -> bool:
    """Whether the item's lock is held by no operation that is still running."""
    if record.active_operation_id is None:
        return True
    active = operations.get(record.active_operation_id)
    return active is None or active["status"] not in operations.NON_TERMINAL


def _busy(record: ownership.ClusterOwnership) -> Conflict:
    return Conflict(f"Cluster '{record.cluster_name}' has an operation in progress ({record.active_operation} "
                    f"{record.active_operation_id}): wait for it to end.")


def _claim_new_cluster(caller: Caller, request: OperationRequest, operation_id: str, *, dryrun: bool) -> None:
    record = ownership.get(request.cluster_name)
    if record is not None and record.active_operation_id == operation_id:
        return  # this very request, re-invoked
    if record is not None and not _is_stale(record):
        raise _busy(record)
    if dryrun:
        return
    if not ownership.claim(request.cluster_name, owner=caller.sub, operation_id=operation_id,
                           operation=request.operation.value, replacing=record):
        raise Conflict(f"Cluster '{request.cluster_name}' is being created by another request.")


def _lock_existing_cluster(caller: Caller, request: OperationRequest, operation_id: str,
                           record: ownership.ClusterOwnership | None, owner: str) -> None:
    kind = request.operation.value
    if record is None:  # an admin on a cluster created outside this API: it is adopted
        if ownership.claim(request.cluster_name, owner=owner, operation_id=operation_id, operation=kind):
            return
        record = ownership.get(request.cluster_name)
        if record is None:  # pragma: no cover - the claim failed on an item that is gone again
            raise Conflict(f"Cluster '{request.cluster_name}' changed during the request: retry.")
    if ownership.lock(request.cluster_name, owner=record.owner, operation_id=operation_id, operation=kind):
        return
    current = ownership.get(request.cluster_name)
    if current is None or not caller.may_see(current.owner):
        raise not_found(request.cluster_name)
    # A delete may stop a create or update that is still running (ParallelCluster deletes a stack in
    # any state): that workflow then sees the cluster go, ends FAILED, and cannot release this lock.
    preempts = (request.operation is OperationKind.DELETE_CLUSTER
                and current.active_operation != OperationKind.DELETE_CLUSTER.value)
    if current.active_operation_id is not None and (preempts or _is_stale(current)) and ownership.lock(
            request.cluster_name, owner=current.owner, operation_id=operation_id, operation=kind,
            stale_operation_id=current.active_operation_id):
        return
    raise _busy(current)


def _owner_tag(description: Mapping[str, Any]) -> str | None:
    key = settings().owner_tag_key
    for tag in description.get("tags") or []:
        if isinstance(tag, Mapping) and tag.get("key") == key and isinstance(tag.get("value"), str):
            return tag["value"]
    return None


def _summary(description: Mapping[str, Any]) -> dict[str, Any]:
    """A DescribeCluster answer as a (Pending)ClusterInfoSummary."""
    summary = {
        "clusterName": description.get("clusterName"), "region": description.get("region"),
        "version": description.get("version"), "cloudformationStackArn": description.get("cloudformationStackArn"),
        "cloudformationStackStatus": description.get("cloudFormationStackStatus"),
        "clusterStatus": description.get("clusterStatus"), "scheduler": description.get("scheduler"),
    }
    return {key: value for key, value in summary.items() if value is not None}


def start_operation(caller: Caller, request: OperationRequest, *, request_id: str | None, deadline: Deadline
                    ) -> dict[str, Any]:
    """Check, record and start a create, update or delete; the HTTP response to answer."""
    name = request.cluster_name
    operation_id = operations.operation_id_for(request_id, request.operation, name)
    if request.operation is OperationKind.CREATE_CLUSTER:
        tag_owner = caller.sub
        checked_configuration(request.configuration or "", owner=tag_owner)
        if _describe_if_exists(name, deadline) is not None:
            raise Conflict(f"Cluster '{name}' already exists.")
        _claim_new_cluster(caller, request, operation_id, dryrun=request.dryrun)
        cluster = {"clusterName": name, "region": settings().region, "version": pcluster.installed_version()}
    else:
        record = visible(caller, name)
        description = _describe_if_exists(name, deadline)
        if description is None:
            raise not_found(name)
        tag_owner = record.owner if record is not None else (_owner_tag(description) or caller.sub)
        if request.operation is OperationKind.UPDATE_CLUSTER:
            checked_configuration(request.configuration or "", owner=tag_owner)
        if not request.dryrun:
            _lock_existing_cluster(caller, request, operation_id, record, tag_owner)
        cluster = _summary(description)
    item = operations.new_item(operation_id=operation_id, operation=request.operation, cluster_name=name,
                               owner=caller.sub, dryrun=request.dryrun, parameters=dict(request.parameters or {}),
                               configuration=request.configuration, tag_owner=tag_owner)
    item = operations.put_new(item)
    try:
        operations.start_workflow(item)
    except Exception:
        _abandon(item)
        raise
    if request.dryrun:
        ended = operations.wait_until_ended(operation_id, deadline.sooner(settings().dryrun_wait_seconds))
        if ended is not None:
            return dryrun_response(ended)
    return json_response(202, accepted_body(item, cluster))


def _abandon(item: Mapping[str, Any]) -> None:
    """The workflow could not be started: the operation fails and lets go of the cluster."""
    operations.update(item["operationId"], expected={OperationStatus.PENDING.value},
                      fields={"status": OperationStatus.FAILED.value,
                              "message": "The workflow could not be started; nothing was changed."})
    if not item["dryrun"]:
        if item["operation"] == OperationKind.CREATE_CLUSTER.value:
            ownership.forget(item["clusterName"], item["operationId"])
        else:
            ownership.release(item["clusterName"], item["operationId"])


def accepted_body(item: Mapping[str, Any], cluster: Mapping[str, Any]) -> dict[str, Any]:
    return {"operationId": item["operationId"], "operation": item["operation"], "clusterName": item["clusterName"],
            "status": item["status"], "dryrun": bool(item["dryrun"]), "cluster": dict(cluster),
            "message": ACCEPTED_MESSAGE.format(item["operationId"])}


def dryrun_response(item: Mapping[str, Any]) -> dict[str, Any]:
    """The spec's answer to a dry run that ended: 412 would succeed, 400 validation errors, or the
    status ParallelCluster refused it with."""
    operation_id = item["operationId"]
    if item["status"] == OperationStatus.DRYRUN_SUCCEEDED.value:
        return json_response(412, _present({"message": item.get("message"), "changeSet": item.get("changeSet"),
                                            "validationMessages": item.get("validationMessages"),
                                            "operationId": operation_id}))
    status = item.get("errorCode") or 500
    body = {"message": item.get("message") or "The dry run failed.", "operationId": operation_id}
    if status == 400:
        body["configurationValidationErrors"] = item.get("configurationValidationErrors")
        if item["operation"] == OperationKind.UPDATE_CLUSTER.value:
            body.update(updateValidationErrors=item.get("updateValidationErrors"), changeSet=item.get("changeSet"))
    return json_response(int(status), _present(body))


def _present(body: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in body.items() if value is not None}


def compute_fleet_status(description: Mapping[str, Any], start: bool) -> models.RequestedComputeFleetStatus:
    """What starting or stopping the fleet means for the cluster's scheduler (AWS Batch: enable,
    disable; Slurm: start, stop)."""
    scheduler = (description.get("scheduler") or {}).get("type")
    if scheduler == "awsbatch":
        return models.RequestedComputeFleetStatus.ENABLED if start else models.RequestedComputeFleetStatus.DISABLED
    return models.RequestedComputeFleetStatus.START_REQUESTED if start else \
        models.RequestedComputeFleetStatus.STOP_REQUESTED



def cluster_route(function: str) -> LambdaHandler:
    """The handler of a route that hands its parameters to ``pcluster.lib.<function>`` for a cluster
    the caller may see, and answers with what ParallelCluster answered."""
    @api_handler(function)
    def handler(request: ApiRequest) -> dict[str, Any]:
        return ok(request, cluster_call(request.caller, function, request.params["clusterName"], request.deadline,
                                        **request.keywords()))

    return handler


def operation_route(function: str, operation: OperationKind, model: type | None) -> LambdaHandler:
    """The handler of create, update or delete: the body (``model``), the options, then
    :func:`start_operation`."""
    @api_handler(function)
    def handler(request: ApiRequest) -> dict[str, Any]:
        body = request.body(model) if model is not None else None
        cluster_name = request.params.get("clusterName") or body.clusterName
        return start_operation(request.caller, OperationRequest(
            operation=operation, cluster_name=cluster_name, dryrun=bool(request.params.get("dryrun", False)),
            parameters=request.options(), configuration=getattr(body, "clusterConfiguration", None),
        ), request_id=request.request_id, deadline=request.deadline)

    return handler

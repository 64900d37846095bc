"""POST /pcluster?command=...&cluster_name=...: the 2020 post's form, mapped onto the /v3 operations.

create -> CreateCluster (the body: the pcluster 3 configuration, base64), status -> DescribeCluster,
delete -> DeleteCluster, list -> ListClusters, start and stop -> UpdateComputeFleet (START_REQUESTED
and STOP_REQUESTED for Slurm, ENABLED and DISABLED for AWS Batch), with the same checks, ownership
and answers (start and stop answer 200 with the new status). Flags come from the
``additional_parameters`` header, read against an allowlist (``logic``).
"""

from __future__ import annotations

from typing import Any

from ..models import LegacyCommand, OperationKind
from ..shared import pcluster
from ..shared.clusters import OperationRequest, cluster_call, compute_fleet_status, list_clusters, start_operation
from ..shared.handlers import ApiRequest, api_handler
from ..shared.http import BadRequest, json_response, read_body_text
from ..shared.settings import settings
from . import logic


def _operation(request: ApiRequest, operation: OperationKind, name: str, options: dict[str, Any],
               configuration: str | None = None) -> dict[str, Any]:
    dryrun = bool(options.pop("dryrun", False))
    return start_operation(request.caller, OperationRequest(
        operation=operation, cluster_name=name, dryrun=dryrun, parameters=options, configuration=configuration),
        request_id=request.request_id, deadline=request.deadline)


@api_handler("legacy_pcluster")
def handler(request: ApiRequest) -> dict[str, Any]:
    command: LegacyCommand = request.params["command"]
    options = logic.parse_additional_parameters(request.params.get(logic.HEADER), command)
    region = options.pop("region", None)
    if region is not None and region != settings().region:
        raise BadRequest(f"{logic.HEADER}: --region must be {settings().region}, the region this API manages")
    if command is LegacyCommand.list:
        return json_response(200, list_clusters(request.caller, request.deadline))
    name = request.params.get("cluster_name")
    if name is None:
        raise BadRequest(f"query parameter cluster_name is required for {command.value}")
    if command is LegacyCommand.create:
        max_bytes = settings().max_body_bytes
        body = read_body_text(request.event, max_bytes=logic.encoded_size_limit(max_bytes))
        return _operation(request, OperationKind.CREATE_CLUSTER, name, options,
                          logic.decode_configuration(body, max_bytes=max_bytes))
    if command is LegacyCommand.delete:
        return _operation(request, OperationKind.DELETE_CLUSTER, name, options)
    description = cluster_call(request.caller, "describe_cluster", name, request.deadline)
    if command is LegacyCommand.status:
        return json_response(200, description)
    status = compute_fleet_status(description, start=command is LegacyCommand.start)
    return json_response(200, pcluster.call("update_compute_fleet", cluster_name=name, status=status,
                                            deadline=request.deadline))

"""PATCH /v3/clusters/{clusterName}/computefleet: start or stop the compute fleet of a cluster the
caller may see; the spec's 204 with the new status."""

from __future__ import annotations

from typing import Any

from ..models import UpdateComputeFleetRequestContent
from ..shared.clusters import cluster_call
from ..shared.handlers import ApiRequest, api_handler, ok


@api_handler("update_compute_fleet")
def handler(request: ApiRequest) -> dict[str, Any]:
    body = request.body(UpdateComputeFleetRequestContent)
    return ok(request, cluster_call(request.caller, "update_compute_fleet", request.params["clusterName"],
                                    request.deadline, status=body.status))

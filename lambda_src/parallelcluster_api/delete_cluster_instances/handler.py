"""DELETE /v3/clusters/{clusterName}/instances: terminate the compute nodes of a cluster the caller
may see; the spec's 202 without a body."""

from __future__ import annotations

from typing import Any

from ..shared.clusters import cluster_call
from ..shared.handlers import ApiRequest, api_handler
from ..shared.http import json_response


@api_handler("delete_cluster_instances")
def handler(request: ApiRequest) -> dict[str, Any]:
    cluster_call(request.caller, "delete_cluster_instances", request.params["clusterName"], request.deadline,
                 **request.keywords())
    return json_response(request.route.success_status)

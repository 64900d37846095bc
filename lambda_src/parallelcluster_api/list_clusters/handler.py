"""GET /v3/clusters: ParallelCluster's page of clusters, less those the caller may not see."""

from __future__ import annotations

from typing import Any

from ..shared.clusters import list_clusters
from ..shared.handlers import ApiRequest, api_handler, ok


@api_handler("list_clusters")
def handler(request: ApiRequest) -> dict[str, Any]:
    return ok(request, list_clusters(request.caller, request.deadline, **request.keywords()))

"""GET /v3/images/official: ParallelCluster's official AMIs in the API's region."""

from __future__ import annotations

from typing import Any

from ..shared import pcluster
from ..shared.handlers import ApiRequest, api_handler, ok


@api_handler("list_official_images")
def handler(request: ApiRequest) -> dict[str, Any]:
    return ok(request, pcluster.call("list_official_images", deadline=request.deadline, **request.keywords()))

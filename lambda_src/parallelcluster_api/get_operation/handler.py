"""GET /v3/operations/{operationId}: a create, update or delete and how it ended, validation
errors included; the caller's own operations only (every one for the admin scope)."""

from __future__ import annotations

from typing import Any

from ..shared import operations
from ..shared.handlers import ApiRequest, api_handler, ok
from ..shared.http import NotFound


@api_handler("get_operation")
def handler(request: ApiRequest) -> dict[str, Any]:
    operation_id = request.params["operationId"]
    operation = operations.visible(operation_id, sub=request.caller.sub, admin=request.caller.admin)
    if operation is None:
        raise NotFound(f"Operation '{operation_id}' does not exist.")
    return ok(request, operation)

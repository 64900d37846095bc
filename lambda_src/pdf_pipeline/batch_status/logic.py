"""GET /batches/{batchId}: the batch id from the request, the answer from the status. Pure."""
from __future__ import annotations

from typing import Any, Mapping

from ..db.api import NotFound, batch_id, json_response, path_parameter, query_parameters


def requested_batch(event: Mapping[str, Any]) -> str:
    """The batch id of the path; BadRequest for anything else in the request."""
    query_parameters(event, allowed=())
    return batch_id(path_parameter(event, "batchId"))


def answer(batch: str, status: dict[str, Any] | None) -> dict[str, Any]:
    if status is None:
        raise NotFound(f"no batch {batch} in the audit trail (yet: its first events may still be queued)")
    return json_response(200, status)

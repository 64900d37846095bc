"""GET /reports/{name}[?batchId=...]: which report, of which batch, and the answer. Pure."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from ..db.api import BadRequest, batch_id, json_response, path_parameter, query_parameters, shown
from ..db.queries import MAX_REPORT_ROWS, PER_BATCH_REPORTS, REPORTS


@dataclass(frozen=True)
class ReportRequest:
    name: str
    batch_id: str | None


def requested_report(event: Mapping[str, Any]) -> ReportRequest:
    name = path_parameter(event, "name")
    if name not in REPORTS:
        raise BadRequest(f"unknown report {shown(name)}; the reports are {', '.join(REPORTS)}")
    batch = query_parameters(event, allowed=("batchId",)).get("batchId")
    if batch is not None and name not in PER_BATCH_REPORTS:
        raise BadRequest(f"the {name} report covers every batch: ask without batchId")
    return ReportRequest(name, None if batch is None else batch_id(batch))


def answer(request: ReportRequest, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """``rows`` as read with a limit one above MAX_REPORT_ROWS: the extra row only tells that
    the report goes on (``truncated``)."""
    return json_response(200, {"report": request.name, "batchId": request.batch_id,
                               "rows": rows[:MAX_REPORT_ROWS], "truncated": len(rows) > MAX_REPORT_ROWS})

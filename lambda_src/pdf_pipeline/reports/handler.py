"""GET /reports/{name} (REST API, IAM auth, Lambda proxy): one of the audit database's report views,
optionally of one batch (``?batchId=``), at most ``MAX_REPORT_ROWS`` rows. 200 with
``{"report", "batchId", "rows", "truncated"}``, 400 for an unknown report, a bad batch id or a
report that is not kept per batch, 503 when the database cannot answer."""
from __future__ import annotations

from ..db.api import ReadApi
from ..db.queries import MAX_REPORT_ROWS, report
from . import logic

api = ReadApi()


@api.handler
def handler(event, connect):
    request = logic.requested_report(event)
    rows = report(connect(), request.name, batch_id=request.batch_id, limit=MAX_REPORT_ROWS + 1)
    return logic.answer(request, rows)

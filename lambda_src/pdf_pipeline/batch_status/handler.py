"""GET /batches/{batchId} (REST API, IAM auth, Lambda proxy): the batch's progress from the audit
database, through RDS Proxy as the dedicated user. 200 with the body of
``db.queries.batch_status``, 404 for a batch the database does not know, 400 for a bad id,
503 when the database cannot answer."""
from __future__ import annotations

from ..db.api import ReadApi
from ..db.queries import batch_status
from . import logic

api = ReadApi()


@api.handler
def handler(event, connect):
    batch = logic.requested_batch(event)
    return logic.answer(batch, batch_status(connect(), batch))

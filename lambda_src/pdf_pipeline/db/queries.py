"""Reading the audit database: a batch's progress (GET /batches/{batchId}) and the reports.

:func:`batch_status` reads the batch's rows of ``audit.documents`` (their page counters are kept
by the writer, so the cost grows with the documents of the batch, not its pages) and a few
indexed counts of ``audit.events``. Its body, all counts (see docs/pdf_pipeline.md):

- ``documents``: ``found`` (listed), ``classified`` (a size class, or rejected at
  classification), ``bySizeClass``, ``inProgress``, ``converted`` (every page converted or
  rejected; includes ``inferred``), ``inferred`` (every page inferred or rejected),
  ``rejected``, ``quarantined``, ``failed`` (documents with at least one failed attempt,
  whatever became of them);
- ``pages``: ``expected`` (page counts known so far), ``split`` (single-page PDFs cut from
  small chunks), ``converted``, ``inferred``, ``rejected``, ``quarantined`` (and not converted
  since), ``failed`` (a failed attempt not yet superseded or quarantined);
- ``chunks.written`` (large documents' chunks), ``rejected`` and ``quarantined`` reasons with
  their counts for documents and pages, and ``complete``: no document is still in progress.

The reports are the views ``audit.report_<name>`` (migrations/0002_report_views.sql).
"""
from __future__ import annotations

import datetime
import decimal
from dataclasses import dataclass
from typing import Any

import pg8000.native

MAX_REPORT_ROWS = 1000


class UnknownReport(LookupError):
    """No report of that name."""


class NotPerBatch(ValueError):
    """The report is not kept per batch, so it cannot be filtered by one."""


@dataclass(frozen=True)
class _Report:
    order_by: str
    per_batch: bool = True


_REPORTS = {
    "documents_processed": _Report("created_at DESC NULLS LAST, batch_id"),
    "document_failures": _Report("batch_id, last_failure_at DESC, document_id"),
    "document_features": _Report("batch_id, feature"),
    "pages_per_stage": _Report("batch_id, array_position(ARRAY['split_small', 'converted', 'inferred'], stage)"),
    "stage_durations": _Report("stage = 'all', stage, component = 'all', component", per_batch=False),
}
REPORTS: tuple[str, ...] = tuple(_REPORTS)
PER_BATCH_REPORTS: tuple[str, ...] = tuple(name for name, spec in _REPORTS.items() if spec.per_batch)

_BATCH = "SELECT batch_id, bucket, prefixes, created_at FROM audit.batches WHERE batch_id = :batch_id"
_DOCUMENTS = """
SELECT count(*)                                                                  AS found,
       count(*) FILTER (WHERE size_class IS NOT NULL OR reject_reason IS NOT NULL) AS classified,
       count(*) FILTER (WHERE size_class = 'large')                              AS large,
       count(*) FILTER (WHERE size_class = 'small')                              AS small,
       count(*) FILTER (WHERE size_class = 'single_page')                        AS single_page,
       count(*) FILTER (WHERE status IN ('listed', 'in_progress'))               AS in_progress,
       count(*) FILTER (WHERE status IN ('converted', 'inferred'))               AS converted,
       count(*) FILTER (WHERE status = 'inferred')                               AS inferred,
       count(*) FILTER (WHERE status = 'rejected')                               AS rejected,
       count(*) FILTER (WHERE status = 'quarantined')                            AS quarantined,
       COALESCE(sum(page_count) FILTER (WHERE status <> 'rejected'), 0)::bigint  AS pages_expected,
       COALESCE(sum(pages_split), 0)::bigint                                     AS pages_split,
       COALESCE(sum(pages_converted), 0)::bigint                                 AS pages_converted,
       COALESCE(sum(pages_inferred), 0)::bigint                                  AS pages_inferred,
       COALESCE(sum(pages_rejected), 0)::bigint                                  AS pages_rejected,
       COALESCE(sum(pages_quarantined), 0)::bigint                               AS pages_quarantined,
       COALESCE(sum(pages_failing), 0)::bigint                                   AS pages_failed
FROM audit.documents
WHERE batch_id = :batch_id
"""
_EVENT_COUNTS = """
SELECT (SELECT count(DISTINCT document_id) FROM audit.events
        WHERE batch_id = :batch_id AND status = 'failed')                        AS documents_failed,
       (SELECT count(*) FROM audit.events
        WHERE batch_id = :batch_id AND stage = 'split_large' AND status = 'succeeded') AS chunks_written
"""
# (what, whose, reason, how many): rejected/quarantined reasons of documents and of pages.
_REASONS = """
SELECT 'rejected', 'documents', reject_reason, count(*) FROM audit.documents
WHERE batch_id = :batch_id AND reject_reason IS NOT NULL GROUP BY reject_reason
UNION ALL
SELECT 'quarantined', 'documents', quarantine_reason, count(*) FROM audit.documents
WHERE batch_id = :batch_id AND quarantine_reason IS NOT NULL GROUP BY quarantine_reason
UNION ALL
SELECT CASE WHEN status = 'rejected' THEN 'rejected' ELSE 'quarantined' END, 'pages', audit.reason_of(detail), count(*)
FROM audit.events
WHERE batch_id = :batch_id AND status IN ('rejected', 'quarantined') AND unit LIKE 'page:%'
GROUP BY 1, 3
"""


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime.datetime):
        return value.astimezone(datetime.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, list):
        return [_jsonable(item) for item in value]
    return value


def _dicts(conn: pg8000.native.Connection, sql: str, **params: Any) -> list[dict[str, Any]]:
    rows = conn.run(sql, **params)
    names = [column["name"] for column in conn.columns or []]
    return [{name: _jsonable(value) for name, value in zip(names, row, strict=True)} for row in rows]


def batch_status(conn: pg8000.native.Connection, batch_id: str) -> dict[str, Any] | None:
    """The GET /batches/{batchId} body; None when the database knows no such batch."""
    batch = _dicts(conn, _BATCH, batch_id=batch_id)
    if not batch:
        return None
    [documents] = _dicts(conn, _DOCUMENTS, batch_id=batch_id)
    [events] = _dicts(conn, _EVENT_COUNTS, batch_id=batch_id)
    reasons: dict[str, dict[str, dict[str, int]]] = {kind: {"documents": {}, "pages": {}}
                                                     for kind in ("rejected", "quarantined")}
    for kind, whose, reason, count in conn.run(_REASONS, batch_id=batch_id):
        reasons[kind][whose][reason] = count
    return {
        "batchId": batch[0]["batch_id"],
        "bucket": batch[0]["bucket"],
        "prefixes": batch[0]["prefixes"],
        "createdAt": batch[0]["created_at"],
        "complete": documents["found"] > 0 and documents["in_progress"] == 0,
        "documents": {
            "found": documents["found"], "classified": documents["classified"],
            "bySizeClass": {name: documents[name] for name in ("large", "small", "single_page")},
            "inProgress": documents["in_progress"], "converted": documents["converted"],
            "inferred": documents["inferred"], "rejected": documents["rejected"],
            "quarantined": documents["quarantined"], "failed": events["documents_failed"],
        },
        "pages": {name: documents[f"pages_{name}"] for name in
                  ("expected", "split", "converted", "inferred", "rejected", "quarantined", "failed")},
        "chunks": {"written": events["chunks_written"]},
        "rejected": reasons["rejected"],
        "quarantined": reasons["quarantined"],
    }


def report(conn: pg8000.native.Connection, name: str, *, batch_id: str | None = None,
           limit: int = MAX_REPORT_ROWS) -> list[dict[str, Any]]:
    """The rows of report ``name`` (one of REPORTS), of one batch when ``batch_id`` is given,
    at most ``limit`` of them in the report's order. UnknownReport, NotPerBatch."""
    spec = _REPORTS.get(name)
    if spec is None:
        raise UnknownReport(name)
    if batch_id is not None and not spec.per_batch:
        raise NotPerBatch(name)
    where = " WHERE batch_id = :batch_id" if batch_id is not None else ""
    params = {"batch_id": batch_id} if batch_id is not None else {}
    # The view name comes from _REPORTS, never from the caller.
    return _dicts(conn, f"SELECT * FROM audit.report_{name}{where} ORDER BY {spec.order_by} LIMIT :limit",
                  limit=limit, **params)

"""The audit writer: a queue batch of AuditEvents into the database, in one transaction, idempotently.

Every event is validated first (:func:`validate`: InvalidEvent for anything the tables would
refuse or that breaks the contract), then merged (see migrations/0001_audit_schema.sql):

- ``audit.events``: one row per (subject, stage, unit, status), subject = the document, or the
  batch for batch events. The status is part of the key so that a failed attempt does not
  hide the success that follows it; when the same key comes again with other content, the
  row keeps the smallest (occurred_at, component, duration_ms, digest of the detail), whatever
  the order (text compared bytewise on both sides: Python's order is COLLATE "C").
- ``audit.batches`` / ``audit.documents``: the facts below, each merged with LEAST (text,
  earliest time) or GREATEST (page count), so any order and any redelivery give the same row.
- ``audit.pages``: a page's status per stage only moves up (failed < quarantined < rejected <
  succeeded); the documents' page counters follow by trigger.
- ``audit.inference_results``: one answer per page, the earliest one (ties: the smallest digest).

The facts read from an event's ``detail`` (any other key stays in the event only; a known key
of the wrong type makes the event invalid):

| event | detail keys |
| --- | --- |
| batch | ``bucket`` (str), ``prefixes`` (list of str) |
| listed | ``bucket`` (str), ``key`` (str), ``version_id`` (str or null), ``size_bytes`` (int) |
| classified, succeeded | ``size_class`` (large, small, single_page), ``page_count`` (int), ``size_bytes`` (int) |
| any stage, rejected, unit "" | ``reason`` (str): the document's reject reason |
| quarantined, unit "" or a chunk | ``reason`` (str): why the document could not be processed |
| inferred, succeeded, a page | the whole detail is the model's answer; its ``features`` object feeds the reports |
| any | ``page_count`` (int): the document's page count, once someone knows it |

Units are ``""`` (the document or batch itself), ``page:N`` or ``chunk:A-B`` with 1 to 6 digits
(stored as 6 digits, so ``page:7`` and ``page:000007`` are the same unit). ``converted`` and
``inferred`` events are about a page.

Locks: the transaction takes its documents' rows first, in document order (the documents
upsert), so concurrent writers of the same document queue behind each other instead of
deadlocking on its pages; batch rows are only locked by the rare batch event.
"""
from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Iterable, Sequence

import pg8000.native

from ..messages import AuditEvent, InvalidMessage, SizeClass, Stage, Status

MAX_DETAIL_BYTES = 64 * 1024
MAX_DETAIL_DEPTH = 16
MAX_TEXT = 1024                     # S3 keys and version ids are at most 1,024 bytes
MAX_PAGE = 999_999                  # six digits, as in the S3 keys
MAX_DURATION_MS = 2**31 - 1
MAX_BYTES = 2**63 - 1
_BATCH_ID = re.compile(r"^b-[0-9A-Za-z-]{1,64}$")
_DOCUMENT_ID = re.compile(r"^d-[0-9a-f]{32}$")
_COMPONENT = re.compile(r"^[A-Za-z0-9_.:/-]{1,100}$")
_PAGE_UNIT = re.compile(r"^page:([0-9]{1,6})$")
_CHUNK_UNIT = re.compile(r"^chunk:([0-9]{1,6})-([0-9]{1,6})$")
_PAGE_STAGES = {Stage.CONVERTED, Stage.INFERRED}
_PAGE_STATUS_COLUMN = {Stage.SPLIT_SMALL: "split_status", Stage.CONVERTED: "converted_status",
                       Stage.INFERRED: "inferred_status"}
_RANK = {Status.FAILED.value: 1, Status.QUARANTINED.value: 2, Status.REJECTED.value: 3, Status.SUCCEEDED.value: 4}
EARLIEST = datetime(2000, 1, 1, tzinfo=timezone.utc)


class InvalidEvent(ValueError):
    """An audit event the database must not take (the record fails alone)."""


@dataclass(frozen=True)
class Record:
    """A validated event, normalised for the tables."""
    batch_id: str
    document_id: str | None
    stage: Stage
    status: Status
    unit: str                  # normalised: "", "page:000007", "chunk:000001-000010"
    page: int | None
    component: str
    occurred_at: datetime
    duration_ms: int | None
    detail: dict[str, Any]
    detail_digest: str         # sha256 of the canonical JSON (sorted keys, no spaces), hex

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.document_id or self.batch_id, self.stage.value, self.unit, self.status.value)

    @property
    def content(self) -> tuple[datetime, str, int, str]:
        """What decides which of two events with the same key is kept: the smaller (as in SQL)."""
        return (self.occurred_at, self.component, -1 if self.duration_ms is None else self.duration_ms,
                self.detail_digest)


# --- validation -----------------------------------------------------------------------------

def parse_event(body: str | bytes) -> Record:
    """The queue message's body as a validated record, or InvalidEvent."""
    try:
        event = AuditEvent.from_json(body)
    except InvalidMessage as error:
        raise InvalidEvent(str(error)) from None
    return validate(event)


def validate(event: AuditEvent) -> Record:
    if not _BATCH_ID.match(event.batch_id):
        raise InvalidEvent(f"batch_id {_shown(event.batch_id)} is not a batch id")
    if event.stage is Stage.BATCH:
        if event.document_id is not None or event.unit:
            raise InvalidEvent("a batch event is about the batch: no document_id, no unit")
    elif event.document_id is None or not _DOCUMENT_ID.match(event.document_id):
        raise InvalidEvent(f"a {event.stage.value} event needs a document id, got {_shown(event.document_id)}")
    if not _COMPONENT.match(event.component):
        raise InvalidEvent(f"component {_shown(event.component)} must be 1-100 of A-Z a-z 0-9 _ . : / -")
    unit, page = _unit(event.unit)
    if event.stage in _PAGE_STAGES and page is None:
        raise InvalidEvent(f"a {event.stage.value} event is about a page (unit page:N), got {_shown(event.unit)}")
    if event.duration_ms is not None and not 0 <= event.duration_ms <= MAX_DURATION_MS:
        raise InvalidEvent(f"duration_ms must be 0..{MAX_DURATION_MS}, got {_shown(event.duration_ms)}")
    record = Record(event.batch_id, event.document_id, event.stage, event.status, unit, page, event.component,
                    _timestamp(event.occurred_at), event.duration_ms, event.detail, _detail_digest(event.detail))
    _check_facts(record)
    return record


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:60] + "..."


def _unit(unit: str) -> tuple[str, int | None]:
    if unit == "":
        return "", None
    page = _PAGE_UNIT.match(unit)
    if page:
        number = int(page.group(1))
        if number >= 1:
            return f"page:{number:06d}", number
    chunk = _CHUNK_UNIT.match(unit)
    if chunk:
        first, last = int(chunk.group(1)), int(chunk.group(2))
        if 1 <= first <= last:
            return f"chunk:{first:06d}-{last:06d}", None
    raise InvalidEvent(f"unit {_shown(unit)} must be '', page:N or chunk:A-B (1 <= A <= B <= {MAX_PAGE})")


def _timestamp(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidEvent(f"occurred_at {_shown(text)} is not an ISO 8601 time") from None
    if moment.tzinfo is None:
        raise InvalidEvent(f"occurred_at {_shown(text)} has no time zone (send UTC)")
    moment = moment.astimezone(timezone.utc)
    if moment < EARLIEST:
        raise InvalidEvent(f"occurred_at {_shown(text)} is before {EARLIEST.year}")
    return moment


def _detail_digest(detail: dict[str, Any]) -> str:
    _check_json_value(detail, depth=0)
    try:
        text = json.dumps(detail, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
        size = len(text.encode("utf-8"))
    except (ValueError, UnicodeEncodeError) as error:
        raise InvalidEvent(f"detail is not storable JSON ({error})") from None
    if size > MAX_DETAIL_BYTES:
        raise InvalidEvent(f"detail is {size} bytes, at most {MAX_DETAIL_BYTES}")
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _check_json_value(value: Any, *, depth: int) -> None:
    """PostgreSQL's jsonb takes no NUL character and no NaN; deep nesting is refused early."""
    if depth > MAX_DETAIL_DEPTH:
        raise InvalidEvent(f"detail nests deeper than {MAX_DETAIL_DEPTH} levels")
    if isinstance(value, str):
        if "\x00" in value:
            raise InvalidEvent("detail holds a NUL character")
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidEvent("detail holds NaN or Infinity")
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_json_value(key, depth=depth + 1)
            _check_json_value(item, depth=depth + 1)
    elif isinstance(value, list):
        for item in value:
            _check_json_value(item, depth=depth + 1)


def _text(detail: dict[str, Any], name: str, *, nullable: bool = False) -> str | None:
    value = detail.get(name)
    if value is None and (nullable or name not in detail):
        return None
    if not isinstance(value, str) or not value or len(value) > MAX_TEXT:
        raise InvalidEvent(f"detail.{name} must be a string of 1-{MAX_TEXT} characters")
    return value


def _integer(detail: dict[str, Any], name: str, maximum: int) -> int | None:
    if name not in detail:
        return None
    value = detail[name]
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= maximum:
        raise InvalidEvent(f"detail.{name} must be an integer 0..{maximum}")
    return value


def _check_facts(record: Record) -> None:
    """Reading the facts validates them: a known key of the wrong type is refused here."""
    _batch_facts(record)
    _document_facts(record)


# --- what an event says about its batch, document and page ----------------------------------

def _batch_facts(record: Record) -> dict[str, Any]:
    if record.stage is not Stage.BATCH:
        return {}
    prefixes = record.detail.get("prefixes")
    if prefixes is not None and (not isinstance(prefixes, list) or not all(
            isinstance(prefix, str) and len(prefix) <= MAX_TEXT for prefix in prefixes)):
        raise InvalidEvent("detail.prefixes must be a list of strings")
    return {"bucket": _text(record.detail, "bucket"), "prefixes": prefixes,
            "created_at": record.occurred_at.isoformat()}


def _document_facts(record: Record) -> dict[str, Any]:
    if record.document_id is None:
        return {}
    detail = record.detail
    facts: dict[str, Any] = {"page_count": _integer(detail, "page_count", MAX_PAGE)}
    if record.stage is Stage.LISTED:
        facts.update(bucket=_text(detail, "bucket"), object_key=_text(detail, "key"),
                     version_id=_text(detail, "version_id", nullable=True),
                     size_bytes=_integer(detail, "size_bytes", MAX_BYTES), listed_at=record.occurred_at.isoformat())
    if record.stage is Stage.CLASSIFIED and record.status is Status.SUCCEEDED:
        size_class = detail.get("size_class")
        if size_class is not None and size_class not in {member.value for member in SizeClass}:
            raise InvalidEvent(f"detail.size_class must be one of large, small, single_page, got {_shown(size_class)}")
        facts.update(size_class=size_class, size_bytes=_integer(detail, "size_bytes", MAX_BYTES),
                     classified_at=record.occurred_at.isoformat())
    if record.status is Status.REJECTED and record.unit == "":
        facts.update(reject_reason=_text(detail, "reason") or "unspecified")
    if record.stage is Stage.QUARANTINED and record.page is None:
        facts.update(quarantine_reason=_text(detail, "reason") or "unspecified")
    return {name: value for name, value in facts.items() if value is not None}


def _least(a: Any, b: Any) -> Any:
    return b if a is None else a if b is None else min(a, b)


def _greatest(a: Any, b: Any) -> Any:
    return b if a is None else a if b is None else max(a, b)


_DOCUMENT_MERGE = {"bucket": _least, "object_key": _least, "version_id": _least, "size_bytes": _least,
                   "size_class": _least, "page_count": _greatest, "reject_reason": _least,
                   "quarantine_reason": _least, "listed_at": _least, "classified_at": _least}
_BATCH_MERGE = {"bucket": _least, "prefixes": _least, "created_at": _least}


def _merged(rows: dict[Any, dict[str, Any]], key: Any, facts: dict[str, Any], merge: dict[str, Any]) -> None:
    row = rows.setdefault(key, {})
    for name, value in facts.items():
        row[name] = merge[name](row.get(name), value)


@dataclass
class _Plan:
    """A batch of records reduced to one row per table key (PostgreSQL refuses to upsert the
    same key twice in one statement), with the same merges the SQL applies."""
    batches: dict[str, dict[str, Any]]
    documents: dict[str, dict[str, Any]]
    events: dict[tuple[str, str, str, str], Record]
    pages: dict[tuple[str, int], dict[str, Any]]
    answers: dict[tuple[str, int], Record]


def _plan(records: Iterable[Record]) -> _Plan:
    plan = _Plan({}, {}, {}, {}, {})
    for record in records:
        _merged(plan.batches, record.batch_id, _batch_facts(record), _BATCH_MERGE)
        if record.document_id is not None:
            _merged(plan.documents, record.document_id, {"batch_id": record.batch_id, **_document_facts(record)},
                    {"batch_id": _least, **_DOCUMENT_MERGE})
        kept = plan.events.get(record.key)
        if kept is None or record.content < kept.content:
            plan.events[record.key] = record
        if record.page is not None:
            page = plan.pages.setdefault((record.document_id, record.page),
                                         {"batch_id": record.batch_id, "split_status": None,
                                          "converted_status": None, "inferred_status": None, "quarantined": False})
            column = _PAGE_STATUS_COLUMN.get(record.stage)
            if column and _RANK[record.status.value] > _RANK.get(page[column], 0):
                page[column] = record.status.value
            if record.stage is Stage.QUARANTINED or record.status is Status.QUARANTINED:
                page["quarantined"] = True
            if record.stage is Stage.INFERRED and record.status is Status.SUCCEEDED:
                kept_answer = plan.answers.get((record.document_id, record.page))
                if kept_answer is None or (record.occurred_at, record.detail_digest) < (
                        kept_answer.occurred_at, kept_answer.detail_digest):
                    plan.answers[(record.document_id, record.page)] = record
    return plan


# --- SQL --------------------------------------------------------------------------------------

_UPSERT_BATCHES = """
INSERT INTO audit.batches AS b (batch_id, bucket, prefixes, created_at)
SELECT r.batch_id, r.bucket, r.prefixes, r.created_at
FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS r (batch_id text, bucket text, prefixes text[], created_at timestamptz)
ORDER BY r.batch_id COLLATE "C"
ON CONFLICT (batch_id) DO UPDATE SET
    bucket = LEAST(b.bucket, excluded.bucket),
    prefixes = LEAST(b.prefixes, excluded.prefixes),
    created_at = LEAST(b.created_at, excluded.created_at)
WHERE (b.bucket, b.prefixes, b.created_at)
      IS DISTINCT FROM (LEAST(b.bucket, excluded.bucket), LEAST(b.prefixes, excluded.prefixes),
                        LEAST(b.created_at, excluded.created_at))
"""
_INSERT_BATCH_IDS = """
INSERT INTO audit.batches (batch_id)
SELECT batch_id FROM unnest(CAST(:ids AS text[])) AS batch_id ORDER BY batch_id COLLATE "C"
ON CONFLICT (batch_id) DO NOTHING
"""
_DOCUMENT_COLUMNS = ("bucket", "object_key", "version_id", "size_bytes", "size_class", "page_count",
                     "reject_reason", "quarantine_reason", "listed_at", "classified_at")
_DOCUMENT_TYPES = {"size_bytes": "bigint", "page_count": "integer", "listed_at": "timestamptz",
                   "classified_at": "timestamptz"}
_DOCUMENT_MERGE_SQL = {name: ("GREATEST" if merge is _greatest else "LEAST") for name, merge in _DOCUMENT_MERGE.items()}
# Every document of the transaction is locked here, in document order, even when nothing changes.
_UPSERT_DOCUMENTS = f"""
INSERT INTO audit.documents AS d (document_id, batch_id, {", ".join(_DOCUMENT_COLUMNS)})
SELECT r.document_id, r.batch_id, {", ".join(f"r.{name}" for name in _DOCUMENT_COLUMNS)}
FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS r (document_id text, batch_id text,
     {", ".join(f"{name} {_DOCUMENT_TYPES.get(name, 'text')}" for name in _DOCUMENT_COLUMNS)})
ORDER BY r.document_id COLLATE "C"
ON CONFLICT (document_id) DO UPDATE SET
    {", ".join(f"{name} = {_DOCUMENT_MERGE_SQL[name]}(d.{name}, excluded.{name})" for name in _DOCUMENT_COLUMNS)}
WHERE ({", ".join(f"d.{name}" for name in _DOCUMENT_COLUMNS)}) IS DISTINCT FROM
      ({", ".join(f"{_DOCUMENT_MERGE_SQL[name]}(d.{name}, excluded.{name})" for name in _DOCUMENT_COLUMNS)})
"""
_UPSERT_EVENTS = """
INSERT INTO audit.events AS e (batch_id, document_id, stage, status, unit, component, occurred_at, duration_ms,
                               detail, detail_digest)
SELECT r.batch_id, r.document_id, r.stage, r.status, r.unit, r.component, r.occurred_at, r.duration_ms, r.detail,
       r.detail_digest
FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS r (batch_id text, document_id text, stage text, status text,
     unit text, component text, occurred_at timestamptz, duration_ms integer, detail jsonb, detail_digest text)
ORDER BY COALESCE(r.document_id, r.batch_id) COLLATE "C", r.stage COLLATE "C", r.unit COLLATE "C",
         r.status COLLATE "C"
ON CONFLICT (subject, stage, unit, status) DO UPDATE SET
    batch_id = excluded.batch_id, component = excluded.component, occurred_at = excluded.occurred_at,
    duration_ms = excluded.duration_ms, detail = excluded.detail, detail_digest = excluded.detail_digest
WHERE (excluded.occurred_at, excluded.component, COALESCE(excluded.duration_ms, -1), excluded.detail_digest)
      < (e.occurred_at, e.component, COALESCE(e.duration_ms, -1), e.detail_digest)
"""
_MAX_STATUS = ("CASE WHEN audit.status_rank(excluded.{0}) > audit.status_rank(p.{0}) "
               "THEN excluded.{0} ELSE p.{0} END")
_PAGE_STATUSES = ("split_status", "converted_status", "inferred_status")
_UPSERT_PAGES = f"""
INSERT INTO audit.pages AS p (document_id, page_number, batch_id, {", ".join(_PAGE_STATUSES)}, quarantined)
SELECT r.document_id, r.page_number, r.batch_id, {", ".join(f"r.{name}" for name in _PAGE_STATUSES)}, r.quarantined
FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS r (document_id text, page_number integer, batch_id text,
     split_status text, converted_status text, inferred_status text, quarantined boolean)
ORDER BY r.document_id COLLATE "C", r.page_number
ON CONFLICT (document_id, page_number) DO UPDATE SET
    {", ".join(f"{name} = {_MAX_STATUS.format(name)}" for name in _PAGE_STATUSES)},
    quarantined = p.quarantined OR excluded.quarantined
WHERE {" OR ".join(f"audit.status_rank(excluded.{name}) > audit.status_rank(p.{name})" for name in _PAGE_STATUSES)}
      OR (excluded.quarantined AND NOT p.quarantined)
"""
_UPSERT_ANSWERS = """
INSERT INTO audit.inference_results AS i (document_id, page_number, batch_id, answer, answer_digest, component,
                                          occurred_at)
SELECT r.document_id, r.page_number, r.batch_id, r.answer, r.answer_digest, r.component, r.occurred_at
FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS r (document_id text, page_number integer, batch_id text,
     answer jsonb, answer_digest text, component text, occurred_at timestamptz)
ORDER BY r.document_id COLLATE "C", r.page_number
ON CONFLICT (document_id, page_number) DO UPDATE SET
    answer = excluded.answer, answer_digest = excluded.answer_digest, component = excluded.component,
    occurred_at = excluded.occurred_at
WHERE (excluded.occurred_at, excluded.answer_digest) < (i.occurred_at, i.answer_digest)
"""


def _rows(rows: list[dict[str, Any]]) -> str:
    return json.dumps(rows, separators=(",", ":"), ensure_ascii=False)


def write_events(conn: pg8000.native.Connection, events: Sequence[AuditEvent | Record]) -> None:
    """Write ``events`` in one transaction (all or nothing); an event already written, or
    written again in any order, changes nothing. InvalidEvent (before any write) for an event
    that is not valid; pg8000's errors when the database fails (the transaction is rolled back)."""
    records = [event if isinstance(event, Record) else validate(event) for event in events]
    if not records:
        return
    plan = _plan(records)
    conn.run("START TRANSACTION")
    try:
        conn.run(_INSERT_BATCH_IDS, ids=sorted(plan.batches))
        batch_facts = [{"batch_id": batch_id, **facts} for batch_id, facts in sorted(plan.batches.items()) if facts]
        if batch_facts:
            conn.run(_UPSERT_BATCHES, rows=_rows(batch_facts))
        if plan.documents:
            conn.run(_UPSERT_DOCUMENTS, rows=_rows([{"document_id": document_id, **facts}
                                                     for document_id, facts in sorted(plan.documents.items())]))
        conn.run(_UPSERT_EVENTS, rows=_rows([{
            "batch_id": record.batch_id, "document_id": record.document_id, "stage": record.stage.value,
            "status": record.status.value, "unit": record.unit, "component": record.component,
            "occurred_at": record.occurred_at.isoformat(), "duration_ms": record.duration_ms,
            "detail": record.detail, "detail_digest": record.detail_digest}
            for _key, record in sorted(plan.events.items())]))
        if plan.pages:
            conn.run(_UPSERT_PAGES, rows=_rows([{"document_id": document_id, "page_number": page, **row}
                                                 for (document_id, page), row in sorted(plan.pages.items())]))
        if plan.answers:
            conn.run(_UPSERT_ANSWERS, rows=_rows([{
                "document_id": document_id, "page_number": page, "batch_id": record.batch_id,
                "answer": record.detail, "answer_digest": record.detail_digest, "component": record.component,
                "occurred_at": record.occurred_at.isoformat()} for (document_id, page), record in
                sorted(plan.answers.items())]))
        conn.run("COMMIT")
    except BaseException:
        _rollback(conn)
        raise


def _rollback(conn: pg8000.native.Connection) -> None:
    try:
        conn.run("ROLLBACK")
    except (pg8000.native.InterfaceError, pg8000.native.DatabaseError, OSError):
        pass  # the connection is gone; the server rolls back on its own

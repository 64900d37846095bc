"""The audit writer against a real PostgreSQL server: idempotence, convergence, validation."""
from __future__ import annotations

import contextlib
import dataclasses
import json
import random
import threading

import pg8000.native
import pytest

pytest.register_assert_rewrite("tests.pdf_pipeline.postgres")  # imported here before pytest_plugins loads it

from lambda_src.pdf_pipeline.db.audit import InvalidEvent, parse_event, write_events  # noqa: E402
from lambda_src.pdf_pipeline.messages import AuditEvent  # noqa: E402
from tests.pdf_pipeline.postgres import (  # noqa: E402
    BATCH_ID,
    converted_document,
    document_of,
    event,
    json_rows,
    mixed_batch,
    page,
)

pytest_plugins = ["tests.pdf_pipeline.postgres"]

# Everything the writer derives, without the columns that record when a row was written.
STATE_QUERIES = {
    "batches": "SELECT batch_id, bucket, prefixes, created_at FROM audit.batches ORDER BY batch_id",
    "documents": "SELECT * FROM audit.documents ORDER BY document_id",
    "events": "SELECT batch_id, document_id, stage, status, unit, component, occurred_at, duration_ms, detail "
              "FROM audit.events ORDER BY subject, stage, unit, status",
    "pages": "SELECT * FROM audit.pages ORDER BY document_id, page_number",
    "inference_results": "SELECT document_id, page_number, batch_id, answer, features, component, occurred_at "
                         "FROM audit.inference_results ORDER BY document_id, page_number",
}


def _state(migrated) -> str:
    state = {}
    for name, sql in STATE_QUERIES.items():
        rows = migrated.rows(sql)
        for row in rows:
            row.pop("recorded_at", None)
        state[name] = rows
    return json_rows(state)


def _write(migrated, *batches) -> None:
    with contextlib.closing(migrated.app()) as app:
        for batch in batches:
            write_events(app, batch)


def _document(migrated, key: str) -> dict:
    [row] = migrated.rows("SELECT * FROM audit.documents WHERE document_id = :id", id=document_of(key))
    return row


# --- what the writer derives ----------------------------------------------------------------

def test_a_converted_and_inferred_document_has_every_fact_and_page_counted(migrated):
    _write(migrated, converted_document("three.pdf", 3, size_class="small", features=[{"a": True}] * 3))
    document = _document(migrated, "three.pdf")
    assert {name: document[name] for name in ("bucket", "object_key", "version_id", "size_bytes", "size_class",
                                              "page_count", "status", "pages_seen", "pages_split",
                                              "pages_converted", "pages_inferred", "pages_failing")} == {
        "bucket": "staging-bucket", "object_key": "three.pdf", "version_id": None, "size_bytes": 3000,
        "size_class": "small", "page_count": 3, "status": "inferred", "pages_seen": 3, "pages_split": 3,
        "pages_converted": 3, "pages_inferred": 3, "pages_failing": 0}


def test_a_document_rejected_at_classification_is_rejected_with_its_reason(migrated):
    _write(migrated, [event("listed", doc="x.pdf", bucket="b", key="x.pdf", size_bytes=0),
                      event("classified", "rejected", doc="x.pdf", t=1, reason="empty")])
    document = _document(migrated, "x.pdf")
    assert (document["status"], document["reject_reason"]) == ("rejected", "empty")


def test_a_failed_attempt_does_not_hide_the_success_that_follows(migrated):
    _write(migrated, converted_document("one.pdf", 1, size_class="single_page")[:2],
           [event("converted", "failed", doc="one.pdf", unit=page(1), t=5, error="S3 timeout")])
    assert _document(migrated, "one.pdf")["pages_failing"] == 1
    _write(migrated, [event("converted", doc="one.pdf", unit=page(1), t=9)])
    document = _document(migrated, "one.pdf")
    statuses = migrated.rows("SELECT status FROM audit.events WHERE stage = 'converted' ORDER BY status")
    assert (document["status"], document["pages_failing"], document["pages_converted"]) == ("converted", 0, 1)
    assert [row["status"] for row in statuses] == ["failed", "succeeded"]


def test_a_quarantined_page_converted_after_a_redrive_completes_its_document(migrated):
    events = converted_document("two.pdf", 2, size_class="small")
    late = events.pop()  # page 2's conversion
    _write(migrated, events, [event("quarantined", "quarantined", doc="two.pdf", unit=page(2), t=6, reason="x")])
    assert (_document(migrated, "two.pdf")["status"], _document(migrated, "two.pdf")["pages_quarantined"]) == (
        "quarantined", 1)
    _write(migrated, [late])
    document = _document(migrated, "two.pdf")
    assert (document["status"], document["pages_quarantined"]) == ("converted", 0)


def test_a_large_document_takes_its_page_count_from_the_splitter_when_classification_did_not_count(migrated):
    _write(migrated, [event("listed", doc="big.pdf", bucket="b", key="big.pdf", size_bytes=10**9),
                      event("classified", doc="big.pdf", t=1, size_class="large"),
                      event("split_large", doc="big.pdf", unit="chunk:000001-000010", t=2, page_count=25)])
    document = _document(migrated, "big.pdf")
    assert (document["size_class"], document["page_count"], document["status"]) == ("large", 25, "in_progress")


def test_page_units_with_and_without_leading_zeros_are_the_same_page(migrated):
    _write(migrated, [event("converted", doc="a.pdf", unit="page:7"),
                      event("converted", doc="a.pdf", unit="page:000007")])
    assert migrated.rows("SELECT unit FROM audit.events") == [{"unit": "page:000007"}]
    assert _document(migrated, "a.pdf")["pages_converted"] == 1


def test_the_model_answer_is_stored_whole_and_its_features_apart(migrated):
    answer = {"features": {"signature": True}, "model": "m-1", "scores": [0.1, 0.9]}
    _write(migrated, [event("inferred", doc="a.pdf", unit=page(1), **answer)])
    [row] = migrated.rows("SELECT answer, features FROM audit.inference_results")
    assert (row["answer"], row["features"]) == (answer, {"signature": True})


def test_an_answer_without_a_features_object_has_no_features(migrated):
    _write(migrated, [event("inferred", doc="a.pdf", unit=page(1), features=["not", "an", "object"])])
    assert migrated.rows("SELECT features FROM audit.inference_results") == [{"features": {}}]


# --- idempotence and convergence ------------------------------------------------------------

def test_redelivering_every_event_changes_nothing(migrated):
    events = mixed_batch()
    _write(migrated, events)
    once = _state(migrated)
    _write(migrated, events, events[:5], events[-5:])
    assert _state(migrated) == once


def test_duplicates_inside_one_batch_are_written_once(migrated):
    events = converted_document("three.pdf", 3, size_class="small")
    _write(migrated, events + events)
    counts = migrated.rows("SELECT count(*) AS events FROM audit.events")
    assert counts == [{"events": len(events)}]
    assert _document(migrated, "three.pdf")["pages_converted"] == 3


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_any_order_and_any_batching_of_the_events_ends_in_the_same_state(postgres, migrated_template, seed):
    from tests.pdf_pipeline.postgres import MigratedDatabase

    events = mixed_batch()
    in_order = MigratedDatabase(postgres, postgres.create_database(template=migrated_template))
    shuffled = MigratedDatabase(postgres, postgres.create_database(template=migrated_template))
    try:
        _write(in_order, events)
        rng = random.Random(seed)
        mixed = events[:]
        rng.shuffle(mixed)
        batches, start = [], 0
        while start < len(mixed):
            size = rng.randint(1, 10)
            batches.append(mixed[start:start + size])
            start += size
        _write(shuffled, *batches)
        assert _state(shuffled) == _state(in_order)
    finally:
        postgres.drop_database(in_order.name)
        postgres.drop_database(shuffled.name)


def test_the_same_key_with_other_content_keeps_the_earliest_event_whatever_the_order(migrated):
    early = event("converted", "failed", doc="a.pdf", unit=page(1), t=1, component="lambda:convert_page",
                  error="first")
    late = event("converted", "failed", doc="a.pdf", unit=page(1), t=2, component="fargate:failsafe",
                 error="second")
    _write(migrated, [late], [early], [late])
    assert migrated.rows("SELECT component, detail FROM audit.events") == [
        {"component": "lambda:convert_page", "detail": {"error": "first"}}]


def test_the_same_page_answered_twice_keeps_the_earliest_answer(migrated):
    first = event("inferred", doc="a.pdf", unit=page(1), t=1, features={"x": True})
    second = event("inferred", doc="a.pdf", unit=page(1), t=2, features={"x": False})
    _write(migrated, [second], [first], [second])
    assert migrated.rows("SELECT features FROM audit.inference_results") == [{"features": {"x": True}}]


def test_concurrent_writers_of_one_document_in_opposite_orders_neither_deadlock_nor_miscount(migrated):
    events = [event("converted", doc="big.pdf", unit=page(number), t=number) for number in range(1, 201)]
    errors: list[BaseException] = []

    def write(order: list[AuditEvent]) -> None:
        try:
            with contextlib.closing(migrated.app()) as app:
                for start in range(0, len(order), 10):
                    write_events(app, order[start:start + 10])
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=write, args=(order,)) for order in (events, events[::-1], events[50:])]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert _document(migrated, "big.pdf")["pages_converted"] == 200


# --- all or nothing, and what the writer refuses --------------------------------------------

def test_a_batch_the_database_refuses_leaves_nothing_behind(migrated):
    with contextlib.closing(migrated.admin()) as admin:
        admin.run("ALTER TABLE audit.pages ADD CONSTRAINT test_refuses_page_5 CHECK (page_number <> 5)")
    with contextlib.closing(migrated.app()) as app:
        with pytest.raises(pg8000.native.DatabaseError, match="test_refuses_page_5"):
            write_events(app, [event("listed", doc="a.pdf", bucket="b", key="a.pdf"),
                               event("converted", doc="a.pdf", unit=page(5))])
    assert migrated.rows("SELECT count(*) AS n FROM audit.events") == [{"n": 0}]
    assert migrated.rows("SELECT count(*) AS n FROM audit.documents") == [{"n": 0}]


def test_the_app_user_writes_events_without_any_privilege_beyond_its_grants(migrated):
    _write(migrated, mixed_batch())  # migrated.app() is the dedicated user
    assert migrated.rows("SELECT count(DISTINCT document_id) AS n FROM audit.documents") == [{"n": 7}]


def _body(**changes) -> str:
    body = json.loads(event("converted", doc="a.pdf", unit=page(1)).to_json())
    body.update(changes)
    return json.dumps(body)


@pytest.mark.parametrize(("body", "problem"), [
    ("not json", "not JSON"),
    (json.dumps({"kind": "page", "v": 1}), "expected kind 'audit'"),
    (_body(stage="painted"), "is not a Stage"),
    (_body(unit="page:0"), "must be '', page:N or chunk:A-B"),
    (_body(unit="page:1234567"), "must be '', page:N or chunk:A-B"),
    (_body(unit="chunk:000010-000001"), "must be '', page:N or chunk:A-B"),
    (_body(unit=""), "is about a page"),
    (_body(document_id=None), "needs a document id"),
    (_body(document_id="d-NOT-HEX"), "needs a document id"),
    (_body(stage="batch"), "a batch event is about the batch"),
    (_body(batch_id="b-\u0000"), "is not a batch id"),
    (_body(batch_id="x" * 70), "is not a batch id"),
    (_body(component="lambda classify"), "component"),
    (_body(occurred_at="yesterday"), "is not an ISO 8601 time"),
    (_body(occurred_at="2026-11-30T08:00:00"), "has no time zone"),
    (_body(occurred_at="1970-01-01T00:00:00Z"), "is before 2000"),
    (_body(duration_ms=-1), "duration_ms must be"),
    (_body(duration_ms=10**20), "duration_ms must be"),
    (_body(detail={"error": "nul\u0000byte"}), "NUL character"),
    (_body(detail={"key\u0000": 1}), "NUL character"),
    (_body(detail={"x": "\ud800"}), "not storable JSON"),
    (_body(detail={"x": "y" * 70_000}), "at most 65536"),
    (_body(detail={"page_count": "12"}), "detail.page_count must be an integer"),
    (_body(detail={"page_count": True}), "detail.page_count must be an integer"),
    (_body(detail={"page_count": 10**7}), "detail.page_count must be an integer"),
])
def test_an_event_the_tables_would_refuse_is_invalid(body, problem):
    with pytest.raises(InvalidEvent, match=problem):
        parse_event(body)


def test_nan_in_detail_is_invalid():
    with pytest.raises(InvalidEvent, match="NaN or Infinity"):
        parse_event(_body(detail={"score": "placeholder"}).replace('"placeholder"', "NaN"))


def test_deeply_nested_detail_is_invalid():
    nested: dict = {}
    inner = nested
    for _ in range(30):
        inner["x"] = {}
        inner = inner["x"]
    with pytest.raises(InvalidEvent, match="nests deeper than 16"):
        parse_event(_body(detail=nested))


@pytest.mark.parametrize(("stage", "status", "detail", "problem"), [
    ("listed", "succeeded", {"bucket": 7}, "detail.bucket must be a string"),
    ("listed", "succeeded", {"size_bytes": -1}, "detail.size_bytes must be an integer"),
    ("classified", "succeeded", {"size_class": "huge"}, "detail.size_class must be one of"),
    ("classified", "rejected", {"reason": ""}, "detail.reason must be a string"),
])
def test_a_known_fact_of_the_wrong_type_makes_the_event_invalid(stage, status, detail, problem):
    with pytest.raises(InvalidEvent, match=problem):
        parse_event(event(stage, status, doc="a.pdf", **detail).to_json())


def test_a_batch_event_with_prefixes_that_are_not_strings_is_invalid():
    with pytest.raises(InvalidEvent, match="detail.prefixes must be a list of strings"):
        parse_event(event("batch", prefixes=["a/", 3]).to_json())


def test_a_valid_event_parses_to_its_normalised_record():
    record = parse_event(event("converted", doc="a.pdf", unit="page:7", t=1.5).to_json())
    assert (record.batch_id, record.unit, record.page, record.occurred_at.isoformat()) == (
        BATCH_ID, "page:000007", 7, "2026-11-30T08:00:01.500000+00:00")


def test_records_can_be_written_as_parsed(migrated):
    record = parse_event(event("listed", doc="a.pdf", bucket="b", key="a.pdf").to_json())
    _write(migrated, [record, dataclasses.replace(record)])
    assert _document(migrated, "a.pdf")["object_key"] == "a.pdf"

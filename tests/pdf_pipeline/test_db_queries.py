"""Batch status and every report over a seeded database (the mixed batch of postgres.py)."""
from __future__ import annotations

import contextlib

import pytest

pytest.register_assert_rewrite("tests.pdf_pipeline.postgres")  # imported here before pytest_plugins loads it

from lambda_src.pdf_pipeline.db.audit import write_events  # noqa: E402
from lambda_src.pdf_pipeline.db.queries import REPORTS, NotPerBatch, UnknownReport, batch_status, report  # noqa: E402
from tests.pdf_pipeline.postgres import BATCH_ID, OTHER_BATCH_ID, converted_document, mixed_batch  # noqa: E402

pytest_plugins = ["tests.pdf_pipeline.postgres"]


@pytest.fixture
def seeded(migrated):
    """The mixed batch, and a second batch with one converted document."""
    with contextlib.closing(migrated.app()) as app:
        write_events(app, mixed_batch())
        write_events(app, converted_document("other.pdf", 2, size_class="small", batch_id=OTHER_BATCH_ID))
    return migrated


def _run(database, query, *args, **kwargs):
    with contextlib.closing(database.app()) as app:
        return query(app, *args, **kwargs)


def test_the_status_of_the_mixed_batch_counts_every_document_and_page(seeded):
    assert _run(seeded, batch_status, BATCH_ID) == {
        "batchId": BATCH_ID, "bucket": "staging-bucket", "prefixes": ["invoices/"],
        "createdAt": "2026-11-30T08:00:00.000Z", "complete": False,
        "documents": {"found": 7, "classified": 7, "bySizeClass": {"large": 1, "small": 3, "single_page": 1},
                      "inProgress": 1, "converted": 3, "inferred": 2, "rejected": 2, "quarantined": 1,
                      "failed": 1},
        "pages": {"expected": 22, "split": 17, "converted": 16, "inferred": 4, "rejected": 1, "quarantined": 1,
                  "failed": 0},
        "chunks": {"written": 2},
        "rejected": {"documents": {"encrypted": 1, "not_pdf": 1}, "pages": {"page_too_large": 1}},
        "quarantined": {"documents": {}, "pages": {"render timeout": 1}},
    }


def test_a_batch_with_nothing_in_progress_is_complete(seeded):
    status = _run(seeded, batch_status, OTHER_BATCH_ID)
    assert (status["complete"], status["documents"]["converted"], status["bucket"]) == (True, 1, None)


def test_an_unknown_batch_has_no_status(seeded):
    assert _run(seeded, batch_status, "b-01KB9999999999999999999999") is None


def test_the_documents_processed_report_has_one_row_per_batch_newest_first(seeded):
    rows = _run(seeded, report, "documents_processed")
    assert [(row["batch_id"], row["documents_found"], row["documents_converted"], row["documents_inferred"],
             row["documents_rejected"], row["documents_quarantined"], row["documents_in_progress"])
            for row in rows] == [(BATCH_ID, 7, 3, 2, 2, 1, 1), (OTHER_BATCH_ID, 1, 1, 0, 0, 0, 0)]


def test_the_failures_report_says_why_each_document_failed(seeded):
    rows = _run(seeded, report, "document_failures", batch_id=BATCH_ID)
    assert {row["object_key"]: (row["status"], row["reasons"]) for row in rows} == {
        "large.pdf": ("quarantined", ["converted failed: render timeout", "quarantined quarantined: render timeout"]),
        "locked.pdf": ("rejected", ["classified rejected: encrypted"]),
        "photo.pdf": ("rejected", ["classified rejected: not_pdf"]),
        "poster.pdf": ("converted", ["converted rejected: page_too_large"]),
    }


def test_the_features_report_counts_documents_with_and_without_each_boolean_feature(seeded):
    rows = _run(seeded, report, "document_features", batch_id=BATCH_ID)
    assert [(row["feature"], row["documents_with"], row["documents_without"]) for row in rows] == [
        ("signature", 1, 1), ("stamp", 1, 1)]  # "score" holds numbers that are no booleans: left out


def test_the_pages_per_stage_report_follows_the_stages_in_order(seeded):
    rows = _run(seeded, report, "pages_per_stage", batch_id=BATCH_ID)
    assert [(row["stage"], row["succeeded"], row["rejected"], row["quarantined"], row["failed"])
            for row in rows] == [("split_small", 17, 0, 0, 0), ("converted", 16, 1, 0, 1), ("inferred", 4, 0, 0, 0)]


def test_the_durations_report_gives_the_mean_per_stage_and_component_and_their_totals(seeded):
    rows = {(row["stage"], row["component"]): row for row in _run(seeded, report, "stage_durations")}
    converted = rows[("converted", "lambda:convert_page")]
    # 18 pages in 95 ms, page 12's failed attempt in 20 ms (the failsafe's later one shares its key), 3 ms to reject
    assert (converted["events"], converted["mean_duration_ms"], converted["max_duration_ms"]) == (20, 86.7, 95)
    assert rows[("converted", "all")]["events"] == 20
    assert rows[("all", "fargate:large")]["mean_duration_ms"] == 900.0


def test_every_report_can_be_read_and_none_is_missing(seeded):
    assert REPORTS == ("documents_processed", "document_failures", "document_features", "pages_per_stage",
                       "stage_durations")
    assert all(_run(seeded, report, name) for name in REPORTS)


def test_a_report_is_cut_at_its_limit(seeded):
    assert len(_run(seeded, report, "stage_durations", limit=3)) == 3


def test_an_unknown_report_is_refused_before_any_sql(seeded):
    with pytest.raises(UnknownReport, match="report_x; DROP"):
        _run(seeded, report, "report_x; DROP")


def test_the_durations_report_cannot_be_filtered_by_batch(seeded):
    with pytest.raises(NotPerBatch, match="stage_durations"):
        _run(seeded, report, "stage_durations", batch_id=BATCH_ID)

"""GET /reports/{name}: REST API proxy events (IAM auth) against a seeded real PostgreSQL."""
from __future__ import annotations

import contextlib
import json

import pytest

pytest.register_assert_rewrite("tests.pdf_pipeline.postgres")  # imported here before pytest_plugins loads it

# First: it sets the Lambda environment (Powertools reads it when the handler module is imported).
from tests.pdf_pipeline.postgres import (  # noqa: E402
    BATCH_ID,
    OTHER_BATCH_ID,
    converted_document,
    database_for_handlers,
    mixed_batch,
    rest_api_event,
    unreachable_database,
)

pytest_plugins = ["tests.pdf_pipeline.postgres"]

from lambda_src.pdf_pipeline.db.audit import write_events  # noqa: E402
from lambda_src.pdf_pipeline.db.queries import REPORTS  # noqa: E402
from lambda_src.pdf_pipeline.reports import handler as reports  # noqa: E402
from lambda_src.pdf_pipeline.reports import logic  # noqa: E402
from tests.support.lambda_context import FakeLambdaContext  # noqa: E402


@pytest.fixture
def seeded(migrated, monkeypatch):
    with contextlib.closing(migrated.app()) as app:
        write_events(app, mixed_batch())
        write_events(app, converted_document("other.pdf", 2, size_class="small", batch_id=OTHER_BATCH_ID))
    monkeypatch.setattr(reports.api, "database", database_for_handlers(migrated))
    yield migrated
    reports.api.database.discard()


def _get(name, query=None) -> tuple[int, dict]:
    event = rest_api_event("/reports/{name}", f"/reports/{name}", path_parameters={"name": name}, query=query)
    response = reports.handler(event, FakeLambdaContext())
    return response["statusCode"], json.loads(response["body"])


@pytest.mark.parametrize("name", REPORTS)
def test_every_report_answers_200_with_its_rows(seeded, name):
    status, body = _get(name)
    assert (status, body["report"], body["truncated"], body["batchId"]) == (200, name, False, None)
    assert body["rows"]


def test_a_report_of_one_batch_has_only_that_batch(seeded):
    status, body = _get("documents_processed", {"batchId": [OTHER_BATCH_ID]})
    assert (status, [row["batch_id"] for row in body["rows"]]) == (200, [OTHER_BATCH_ID])


def test_report_rows_are_json_with_utc_times(seeded):
    _, body = _get("document_failures", {"batchId": [BATCH_ID]})
    assert body["rows"][0]["last_failure_at"].endswith("Z")


def test_a_report_longer_than_the_limit_is_cut_and_says_so(seeded, monkeypatch):
    monkeypatch.setattr(logic, "MAX_REPORT_ROWS", 2)
    monkeypatch.setattr(reports, "MAX_REPORT_ROWS", 2)
    status, body = _get("stage_durations")
    assert (status, len(body["rows"]), body["truncated"]) == (200, 2, True)


@pytest.mark.parametrize("name", ["nope", "report_stage_durations", "stage_durations;DROP TABLE x", "",
                                  "Stage_Durations", "x" * 5000])
def test_an_unknown_report_answers_400_naming_the_reports(name, migrated, monkeypatch):
    monkeypatch.setattr(reports.api, "database", unreachable_database())  # a query would be a 503
    status, body = _get(name)
    assert status == 400
    assert "documents_processed" in body["message"] or body["message"] == "the path parameter name is required"
    assert len(body["message"]) < 300


def test_a_batch_filter_on_a_report_that_covers_every_batch_answers_400(seeded):
    status, body = _get("stage_durations", {"batchId": [BATCH_ID]})
    assert (status, body["message"]) == (400, "the stage_durations report covers every batch: ask without batchId")


@pytest.mark.parametrize(("query", "message"), [
    ({"batchId": ["nope"]}, "batch id must look like"),
    ({"batchId": [BATCH_ID, OTHER_BATCH_ID]}, "the query parameter batchId may be given once"),
    ({"batch": [BATCH_ID]}, "unknown query parameter 'batch' (known: batchId)"),
])
def test_a_bad_query_string_answers_400(seeded, query, message):
    status, body = _get("documents_processed", query)
    assert (status, body["message"].startswith(message)) == (400, True)


def test_an_unreachable_database_answers_503(migrated, monkeypatch):
    monkeypatch.setattr(reports.api, "database", unreachable_database())
    status, body = _get("documents_processed")
    assert (status, body) == (503, {"message": "the audit database is unavailable; try again shortly"})

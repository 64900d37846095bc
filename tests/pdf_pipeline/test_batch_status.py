"""GET /batches/{batchId}: REST API proxy events (IAM auth) against a seeded real PostgreSQL."""
from __future__ import annotations

import contextlib
import json

import pytest

pytest.register_assert_rewrite("tests.pdf_pipeline.postgres")  # imported here before pytest_plugins loads it

# First: it sets the Lambda environment (Powertools reads it when the handler module is imported).
from tests.pdf_pipeline.postgres import (  # noqa: E402
    BATCH_ID,
    database_for_handlers,
    mixed_batch,
    rest_api_event,
    unreachable_database,
)

pytest_plugins = ["tests.pdf_pipeline.postgres"]

from lambda_src.pdf_pipeline.batch_status import handler as batch_status  # noqa: E402
from lambda_src.pdf_pipeline.db.audit import write_events  # noqa: E402
from tests.support.lambda_context import FakeLambdaContext  # noqa: E402


@pytest.fixture
def seeded(migrated, monkeypatch):
    with contextlib.closing(migrated.app()) as app:
        write_events(app, mixed_batch())
    monkeypatch.setattr(batch_status.api, "database", database_for_handlers(migrated))
    yield migrated
    batch_status.api.database.discard()


def _get(batch_id, *, query=None, path_parameters="default") -> dict:
    parameters = {"batchId": batch_id} if path_parameters == "default" else path_parameters
    event = rest_api_event("/batches/{batchId}", f"/batches/{batch_id}", path_parameters=parameters, query=query)
    return batch_status.handler(event, FakeLambdaContext())


def _body(response: dict) -> dict:
    assert response["headers"]["Content-Type"] == "application/json"
    return json.loads(response["body"])


def test_a_known_batch_answers_200_with_its_progress(seeded):
    response = _get(BATCH_ID)
    body = _body(response)
    assert response["statusCode"] == 200
    assert (body["batchId"], body["documents"]["found"], body["pages"]["converted"], body["complete"]) == (
        BATCH_ID, 7, 16, False)
    assert body["rejected"]["documents"] == {"encrypted": 1, "not_pdf": 1}


def test_the_answer_is_not_cached_by_intermediaries(seeded):
    assert _get(BATCH_ID)["headers"]["Cache-Control"] == "no-store"


def test_an_unknown_batch_answers_404(seeded):
    response = _get("b-01KB9999999999999999999999")
    assert (response["statusCode"], _body(response)["message"]) == (
        404, "no batch b-01KB9999999999999999999999 in the audit trail (yet: its first events may still be queued)")


@pytest.mark.parametrize("bad_id", ["x", "b-", "b-" + "A" * 65, "b-\u0130", "b-01KB%00", "b-../../etc",
                                    "b-01KB 0", "' OR 1=1 --", "b-" + "\u0000" * 3])
def test_a_malformed_batch_id_answers_400_without_querying(bad_id, migrated, monkeypatch):
    monkeypatch.setattr(batch_status.api, "database", unreachable_database())  # a query would be a 503
    response = _get(bad_id)
    assert (response["statusCode"], _body(response)["message"].startswith("batch id must look like")) == (400, True)


def test_a_request_without_the_path_parameter_answers_400(seeded):
    response = _get("", path_parameters=None)
    assert (response["statusCode"], _body(response)["message"]) == (400, "the path parameter batchId is required")


def test_a_query_string_answers_400(seeded):
    response = _get(BATCH_ID, query={"verbose": ["1"]})
    assert (response["statusCode"], _body(response)["message"]) == (
        400, "unknown query parameter 'verbose' (known: none)")


def test_a_huge_query_parameter_name_is_not_echoed_whole(seeded):
    response = _get(BATCH_ID, query={"x" * 10_000: ["1"]})
    assert response["statusCode"] == 400 and len(response["body"]) < 200


def test_an_unreachable_database_answers_503_with_retry_after(migrated, monkeypatch):
    monkeypatch.setattr(batch_status.api, "database", unreachable_database())
    response = _get(BATCH_ID)
    assert (response["statusCode"], response["headers"]["Retry-After"]) == (503, "5")
    assert _body(response) == {"message": "the audit database is unavailable; try again shortly"}


def test_a_warm_function_reuses_its_connection(seeded):
    _get(BATCH_ID)
    first = batch_status.api.database.get(timeout_s=5)
    _get(BATCH_ID)
    assert batch_status.api.database.get(timeout_s=5) is first

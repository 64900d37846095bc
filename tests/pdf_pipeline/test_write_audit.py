"""The audit queue consumer: SQS batches in the real shape, a real PostgreSQL behind it."""
from __future__ import annotations

import contextlib
import json
import time

import pytest

pytest.register_assert_rewrite("tests.pdf_pipeline.postgres")  # imported here before pytest_plugins loads it

# First: it sets the Lambda environment (Powertools reads it when the handler module is imported).
from tests.pdf_pipeline.postgres import (  # noqa: E402
    converted_document,
    database_for_handlers,
    event,
    mixed_batch,
    page,
    sqs_event,
    unreachable_database,
)

pytest_plugins = ["tests.pdf_pipeline.postgres"]

from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError  # noqa: E402

from lambda_src.pdf_pipeline.write_audit import handler as write_audit  # noqa: E402
from tests.support.lambda_context import FakeLambdaContext  # noqa: E402


@pytest.fixture
def audit_db(migrated, monkeypatch):
    monkeypatch.setattr(write_audit, "database", database_for_handlers(migrated))
    yield migrated
    write_audit.database.discard()


def _deliver(bodies, remaining_ms: int = 30_000) -> tuple[dict, dict]:
    batch = sqs_event(bodies)
    return batch, write_audit.handler(batch, FakeLambdaContext(remaining_ms=remaining_ms))


def _failed(batch: dict, response: dict) -> list[int]:
    """Positions in the batch of the records reported as failed."""
    ids = [record["messageId"] for record in batch["Records"]]
    return sorted(ids.index(failure["itemIdentifier"]) for failure in response["batchItemFailures"])


def _count(migrated, table: str) -> int:
    return migrated.rows(f"SELECT count(*) AS n FROM audit.{table}")[0]["n"]


def test_a_batch_of_events_is_written_in_one_transaction(audit_db):
    bodies = [e.to_json() for e in converted_document("three.pdf", 3, size_class="small")]
    batch, response = _deliver(bodies)
    assert response == {"batchItemFailures": []}
    transactions = audit_db.rows("SELECT count(DISTINCT xmin::text) AS n FROM audit.events")
    assert (_count(audit_db, "events"), transactions) == (len(bodies), [{"n": 1}])


def test_a_redelivered_batch_writes_nothing_new(audit_db):
    bodies = [e.to_json() for e in mixed_batch()[:10]]
    _deliver(bodies)
    before = audit_db.rows("SELECT event_id, xmin::text AS version FROM audit.events ORDER BY event_id")
    _, response = _deliver(bodies)
    assert response == {"batchItemFailures": []}
    assert audit_db.rows("SELECT event_id, xmin::text AS version FROM audit.events ORDER BY event_id") == before


def test_a_malformed_event_fails_alone_and_the_rest_is_written(audit_db):
    good = [e.to_json() for e in converted_document("one.pdf", 1, size_class="single_page")]
    bad_unit = json.loads(good[0])
    bad_unit["unit"] = "page:-1"
    bodies = [good[0], "{not json", json.dumps(bad_unit), *good[1:], json.dumps({"kind": "page", "v": 1})]
    batch, response = _deliver(bodies)
    assert _failed(batch, response) == [1, 2, len(bodies) - 1]
    assert _count(audit_db, "events") == len(good)


def test_a_record_the_database_refuses_fails_alone(audit_db):
    with contextlib.closing(audit_db.admin()) as admin:
        admin.run("ALTER TABLE audit.pages ADD CONSTRAINT test_refuses_page_5 CHECK (page_number <> 5)")
    bodies = [event("converted", doc="a.pdf", unit=page(number)).to_json() for number in range(1, 8)]
    batch, response = _deliver(bodies)
    assert _failed(batch, response) == [4]
    assert _count(audit_db, "pages") == 6


def test_when_the_database_is_unreachable_every_record_fails_at_once(migrated, monkeypatch):
    monkeypatch.setattr(write_audit, "database", unreachable_database())
    attempts = []
    original = write_audit.database.get
    monkeypatch.setattr(write_audit.database, "get", lambda **kw: attempts.append(kw) or original(**kw))
    started = time.monotonic()
    with pytest.raises(BatchProcessingError, match="All records failed processing"):
        _deliver([e.to_json() for e in mixed_batch()[:5]])
    assert (len(attempts), time.monotonic() - started < 5) == (1, True)


def test_no_write_starts_without_time_to_answer(audit_db):
    with pytest.raises(BatchProcessingError, match="All records failed processing"):
        _deliver([e.to_json() for e in mixed_batch()[:3]], remaining_ms=1500)  # under the 2 s reserve
    assert _count(audit_db, "events") == 0


def test_an_empty_batch_is_answered_without_touching_the_database(migrated, monkeypatch):
    monkeypatch.setattr(write_audit, "database", unreachable_database())
    assert write_audit.handler({"Records": []}, FakeLambdaContext()) == {"batchItemFailures": []}


def test_the_same_message_twice_in_one_batch_is_written_once(audit_db):
    body = event("listed", doc="a.pdf", bucket="b", key="a.pdf").to_json()
    _, response = _deliver([body, body])
    assert response == {"batchItemFailures": []}
    assert _count(audit_db, "events") == 1

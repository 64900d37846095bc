"""Classification: size from HeadObject, pages counted only under the size threshold, routing, rejects."""
from __future__ import annotations

import contextlib

import pytest
from botocore.exceptions import ClientError

from tests.pdf_pipeline import aws  # first: it sets the environment the handlers read at import

# isort: split
from lambda_src.pdf_pipeline.classify import handler as classify_handler
from lambda_src.pdf_pipeline.classify.logic import classify_document, route_redriven
from lambda_src.pdf_pipeline.messages import (
    AuditEvent,
    ChunkMessage,
    DocumentMessage,
    PageMessage,
    RejectReason,
    SizeClass,
    Stage,
    Status,
)
from lambda_src.pdf_pipeline.shared import aws as shared_aws
from lambda_src.pdf_pipeline.shared.audit import AuditTrail
from lambda_src.pdf_pipeline.shared.pdf_tools import pdf_tools
from lambda_src.pdf_pipeline.shared.store import ObjectMissing, S3Store
from lambda_src.pdf_pipeline.shared.work import Destination
from tests.pdf_pipeline.aws import STAGING

BATCH, DOCUMENT = "b-01JTESTBATCH00000000000000", "d-0123456789abcdef0123456789abcdef"


@pytest.fixture
def world():
    with aws.moto_world() as world:
        yield world


def document(world, body: bytes, key: str = "in/doc.pdf") -> DocumentMessage:
    world.put(STAGING, key, body)
    return DocumentMessage(batch_id=BATCH, document_id=DOCUMENT, bucket=STAGING, key=key, version_id=None,
                           size_bytes=len(body))


def classify(world, message: DocumentMessage, *, large_bytes: int = 10 * 1024 * 1024, large_pages: int = 10):
    return classify_document(message, store=S3Store(world.s3), tools=pdf_tools(), large_bytes=large_bytes,
                             large_pages=large_pages, trail=AuditTrail("lambda:classify"))


@contextlib.contextmanager
def counted(world, operation: str):
    calls = []

    def count(**_):
        calls.append(1)

    world.s3.meta.events.register(f"before-call.s3.{operation}", count)
    try:
        yield calls
    finally:
        world.s3.meta.events.unregister(f"before-call.s3.{operation}", count)


def test_a_single_page_document_goes_to_the_single_page_queue_as_itself(world):
    step = classify(world, document(world, aws.pdf_of(1)))
    [(destination, page)] = step.outputs
    assert destination is Destination.SINGLE_PAGE and isinstance(page, PageMessage)
    assert (page.bucket, page.key, page.page, page.page_count) == (STAGING, "in/doc.pdf", 1, 1)


@pytest.mark.parametrize("pages", [2, 10])
def test_two_to_ten_pages_go_to_the_small_queue_as_one_chunk_of_the_whole_document(world, pages):
    step = classify(world, document(world, aws.pdf_of(pages)))
    [(destination, chunk)] = step.outputs
    assert destination is Destination.SMALL and isinstance(chunk, ChunkMessage)
    assert (chunk.key, chunk.first_page, chunk.last_page) == ("in/doc.pdf", 1, pages)


def test_more_pages_than_the_threshold_is_large_with_its_page_count_and_pinned_version(world):
    message = document(world, aws.pdf_of(11))
    version = world.s3.head_object(Bucket=STAGING, Key="in/doc.pdf")["VersionId"]
    [(destination, large)] = classify(world, message).outputs
    assert destination is Destination.LARGE
    assert (large.size_class, large.page_count, large.version_id) == (SizeClass.LARGE, 11, version)


def test_a_document_at_the_size_threshold_is_read_and_counted(world):
    body = aws.pdf_of(3)
    with counted(world, "GetObject") as reads:
        step = classify(world, document(world, body), large_bytes=len(body))
    assert step.outputs[0][0] is Destination.SMALL and len(reads) == 1


def test_a_document_over_the_size_threshold_is_large_without_being_downloaded(world):
    body = aws.pdf_of(3)
    with counted(world, "GetObject") as reads:
        step = classify(world, document(world, body), large_bytes=len(body) - 1)
    [(destination, large)] = step.outputs
    assert destination is Destination.LARGE and large.page_count is None and reads == []


def test_the_classified_event_records_class_size_and_pages(world):
    body = aws.pdf_of(2)
    [event] = classify(world, document(world, body)).events
    assert (event.stage, event.status, event.document_id) == (Stage.CLASSIFIED, Status.SUCCEEDED, DOCUMENT)
    assert event.detail["size_class"] == "small" and event.detail["size_bytes"] == len(body)
    assert event.detail["page_count"] == 2 and event.duration_ms is not None


@pytest.mark.parametrize("kind", ["empty", "not_pdf", "encrypted", "corrupt", "no_pages"])
def test_an_unprocessable_document_is_rejected_with_its_reason_and_sent_nowhere(world, kind):
    step = classify(world, document(world, aws.broken(kind)))
    [event] = step.events
    assert step.outputs == [] and event.status is Status.REJECTED
    assert RejectReason(event.detail["reason"]) is RejectReason(kind)


def test_a_transient_s3_failure_is_raised_for_sqs_to_retry(world):
    message = document(world, aws.pdf_of(2))
    with aws.failing_calls(world.s3, "s3.GetObject", times=1), pytest.raises(ClientError, match="SlowDown"):
        classify(world, message)
    assert classify(world, message).outputs   # the retry succeeds


def test_a_document_deleted_since_listing_is_object_missing(world):
    message = DocumentMessage(batch_id=BATCH, document_id=DOCUMENT, bucket=STAGING, key="in/gone.pdf",
                              version_id=None, size_bytes=10)
    with pytest.raises(ObjectMissing, match="in/gone.pdf does not exist"):
        classify(world, message)


def test_a_redriven_page_goes_back_to_the_single_page_queue():
    page = PageMessage(batch_id=BATCH, document_id=DOCUMENT, bucket=aws.WORK, key="pages/x.pdf", page=4)
    assert route_redriven(page).outputs == [(Destination.SINGLE_PAGE, page)]


# --- the Lambda handler ---------------------------------------------------------------------

def test_the_handler_routes_each_document_and_fails_only_the_bad_records(world):
    good, flaky = document(world, aws.pdf_of(2), key="in/good.pdf"), document(world, aws.pdf_of(1), key="in/flaky.pdf")
    event = aws.sqs_event([good.to_json(), '{"kind": "document", "v": 1}', flaky.to_json()])
    with aws.failing_requests(shared_aws.client("s3"), "s3.HeadObject",
                              lambda params: params.get("Key") == "in/flaky.pdf", code="SlowDown", status=503):
        assert aws.failed_ids(classify_handler.handler(event, aws.context())) == ["m-1", "m-2"]
    [chunk] = [ChunkMessage.from_json(m["Body"]) for m in world.receive_all("small")]
    assert chunk.key == "in/good.pdf"


def test_a_failed_attempt_is_recorded_as_a_failed_classified_event(world):
    message = document(world, aws.pdf_of(1), key="in/flaky.pdf")
    with aws.failing_calls(shared_aws.client("s3"), "s3.HeadObject", times=1):
        classify_handler.handler(aws.sqs_event([message.to_json()]), aws.context())
    [event] = [AuditEvent.from_json(m["Body"]) for m in world.receive_all("audit")]
    assert (event.stage, event.status, event.document_id, event.detail["attempt"]) == (
        Stage.CLASSIFIED, Status.FAILED, DOCUMENT, 1)
    assert event.detail["reason"].startswith("ClientError: An error occurred (SlowDown)")


def test_a_redriven_chunk_on_the_ingest_queue_goes_to_the_small_queue(world):
    chunk = ChunkMessage(batch_id=BATCH, document_id=DOCUMENT, bucket=aws.WORK, key="chunks/x.pdf", first_page=1,
                         last_page=10)
    assert aws.failed_ids(classify_handler.handler(aws.sqs_event([chunk.to_json()]), aws.context())) == []
    assert [ChunkMessage.from_json(m["Body"]) for m in world.receive_all("small")] == [chunk]

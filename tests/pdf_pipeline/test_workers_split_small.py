"""split_small: a chunk -> one-page PDFs in the work bucket -> page messages."""
from __future__ import annotations

import pytest

from tests.pdf_pipeline import aws  # first: it sets the environment the handlers read at import

# isort: split
from lambda_src.pdf_pipeline.messages import AuditEvent, ChunkMessage, Keys, PageMessage, Stage, Status
from lambda_src.pdf_pipeline.shared import aws as shared_aws
from lambda_src.pdf_pipeline.shared.audit import AuditTrail
from lambda_src.pdf_pipeline.shared.pdf_tools import pdf_tools
from lambda_src.pdf_pipeline.shared.store import S3Store
from lambda_src.pdf_pipeline.shared.work import Destination
from lambda_src.pdf_pipeline.split_small import handler as split_small
from lambda_src.pdf_pipeline.split_small.logic import ChunkMismatch, split_chunk
from tests.pdf_pipeline.aws import STAGING, WORK

BATCH, DOCUMENT = "b-01JTESTBATCH00000000000000", "d-0123456789abcdef0123456789abcdef"


@pytest.fixture
def world():
    with aws.moto_world() as world:
        yield world


def chunk(world, body: bytes, *, first: int, last: int, bucket: str = STAGING, key: str = "in/doc.pdf"):
    world.put(bucket, key, body)
    return ChunkMessage(batch_id=BATCH, document_id=DOCUMENT, bucket=bucket, key=key, first_page=first,
                        last_page=last)


def split(world, message, tmp_path):
    return split_chunk(message, store=S3Store(world.s3), tools=pdf_tools(), work_bucket=WORK,
                       trail=AuditTrail("lambda:split_small"), scratch=tmp_path)


def test_a_small_document_becomes_one_pdf_per_page_in_the_work_bucket(world, tmp_path):
    split(world, chunk(world, aws.pdf_of(3), first=1, last=3), tmp_path)
    assert world.keys(WORK) == [Keys.page_pdf(BATCH, DOCUMENT, page) for page in (1, 2, 3)]
    second = world.s3.get_object(Bucket=WORK, Key=Keys.page_pdf(BATCH, DOCUMENT, 2))["Body"].read()
    assert aws.page_labels(second) == ["Page 00002"]


def test_pages_of_a_large_documents_chunk_keep_their_numbers_in_the_document(world, tmp_path):
    part = aws.pdf_of(10, first_number=11)    # what the large splitter cuts: pages 11..20, renumbered 1..10
    step = split(world, chunk(world, part, first=11, last=20, bucket=WORK,
                              key=Keys.chunk(BATCH, DOCUMENT, 11, 20)), tmp_path)
    assert [message.page for _, message in step.outputs] == list(range(11, 21))
    page_15 = world.s3.get_object(Bucket=WORK, Key=Keys.page_pdf(BATCH, DOCUMENT, 15))["Body"].read()
    assert aws.page_labels(page_15) == ["Page 00015"]


def test_each_page_goes_to_the_single_page_queue_with_its_audit_event(world, tmp_path):
    step = split(world, chunk(world, aws.pdf_of(2), first=1, last=2), tmp_path)
    assert [(d, m.bucket, m.key, m.page) for d, m in step.outputs] == [
        (Destination.SINGLE_PAGE, WORK, Keys.page_pdf(BATCH, DOCUMENT, n), n) for n in (1, 2)]
    assert [(e.stage, e.status, e.unit, e.detail["chunk"]) for e in step.events] == [
        (Stage.SPLIT_SMALL, Status.SUCCEEDED, f"page:00000{n}", "chunk:000001-000002") for n in (1, 2)]


def test_splitting_again_rewrites_the_same_objects(world, tmp_path):
    message = chunk(world, aws.pdf_of(3), first=1, last=3)
    first, second = split(world, message, tmp_path), split(world, message, tmp_path)
    assert len(world.keys(WORK)) == 3 and first.outputs == second.outputs
    assert [e.unit for e in first.events] == [e.unit for e in second.events]


def test_a_chunk_that_does_not_hold_the_pages_its_message_names_fails(world, tmp_path):
    with pytest.raises(ChunkMismatch, match=r"\(3\), expected 5"):
        split(world, chunk(world, aws.pdf_of(3), first=1, last=5), tmp_path)


def test_an_unreadable_chunk_rejects_its_document_naming_the_chunk(world, tmp_path):
    step = split(world, chunk(world, aws.broken("corrupt"), first=1, last=3), tmp_path)
    [event] = step.events
    assert step.outputs == [] and (event.unit, event.status, event.detail["reason"], event.detail["chunk"]) == (
        "", Status.REJECTED, "corrupt", "chunk:000001-000003")


def test_the_download_is_removed_after_the_split(world, tmp_path):
    split(world, chunk(world, aws.pdf_of(2), first=1, last=2), tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_the_handler_sends_every_page_to_the_single_page_queue_and_the_audit_trail(world):
    message = chunk(world, aws.pdf_of(3), first=1, last=3)
    assert aws.failed_ids(split_small.handler(aws.sqs_event([message.to_json()]), aws.context())) == []
    pages = sorted(PageMessage.from_json(m["Body"]).page for m in world.receive_all("single_page"))
    units = sorted(AuditEvent.from_json(m["Body"]).unit for m in world.receive_all("audit"))
    assert pages == [1, 2, 3] and units == ["page:000001", "page:000002", "page:000003"]


def test_a_page_that_cannot_be_written_fails_the_chunk_and_is_reported(world):
    message = chunk(world, aws.pdf_of(3), first=1, last=3)
    with aws.failing_calls(shared_aws.client("s3"), "s3.PutObject", times=1):
        assert aws.failed_ids(split_small.handler(aws.sqs_event([message.to_json()]), aws.context())) == ["m-0"]
    [event] = [AuditEvent.from_json(m["Body"]) for m in world.receive_all("audit")]
    assert (event.stage, event.status, event.unit) == (Stage.SPLIT_SMALL, Status.FAILED, "chunk:000001-000003")
    assert world.depth("single_page") == 0

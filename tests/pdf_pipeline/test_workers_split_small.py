"""split_small: a chunk -> one-page PDFs in the work bucket -> page messages."""
from __future__ import annotations

import pytest

from tests.pdf_pipeline import aws  # first: it sets the environment the handlers read at import

# isort: split
from lambda_src.pdf_pipeline.messages import ChunkMessage, Keys, Stage, Status
from lambda_src.pdf_pipeline.shared.audit import AuditTrail
from lambda_src.pdf_pipeline.shared.store import S3Store
from lambda_src.pdf_pipeline.shared.work import Destination
from lambda_src.pdf_pipeline.split_small.logic import ChunkMismatch, split_chunk
from tests.pdf_pipeline.aws import FAKE_TOOLS, STAGING, WORK

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
    return split_chunk(message, store=S3Store(world.s3), tools=FAKE_TOOLS, work_bucket=WORK,
                       trail=AuditTrail("lambda:split_small"), scratch=tmp_path)


def test_a_small_document_becomes_one_pdf_per_page_in_the_work_bucket(world, tmp_path):
    split(world, chunk(world, aws.pdf_of(3), first=1, last=3), tmp_path)
    assert world.keys(WORK) == [Keys.page_pdf(BATCH, DOCUMENT, page) for page in (1, 2, 3)]
    second = world.s3.get_object(Bucket=WORK, Key=Keys.page_pdf(BATCH, DOCUMENT, 2))["Body"].read()
    assert aws.page_labels(second) == ["p2"]


def test_pages_of_a_large_documents_chunk_keep_their_numbers_in_the_document(world, tmp_path):
    body = aws.pdf_of(20)
    pages_11_to_20 = FAKE_TOOLS.split_into_pages(body)
    part = aws._fake_pdf([{"label": f"p{n}"} for n, _ in pages_11_to_20 if n > 10])
    step = split(world, chunk(world, part, first=11, last=20, bucket=WORK,
                              key=Keys.chunk(BATCH, DOCUMENT, 11, 20)), tmp_path)
    assert [message.page for _, message in step.outputs] == list(range(11, 21))
    page_15 = world.s3.get_object(Bucket=WORK, Key=Keys.page_pdf(BATCH, DOCUMENT, 15))["Body"].read()
    assert aws.page_labels(page_15) == ["p15"]


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

"""Listing: one ListObjectsV2 page per message, ids stable across redelivery."""
from __future__ import annotations

import contextlib

import pytest

from tests.pdf_pipeline import aws  # first: it sets the environment the handlers read at import

# isort: split
from lambda_src.pdf_pipeline.list_objects import handler as list_objects
from lambda_src.pdf_pipeline.messages import AuditEvent, DocumentMessage, ListRequest, Stage, document_id
from lambda_src.pdf_pipeline.shared import aws as shared_aws
from lambda_src.pdf_pipeline.shared import lambda_host
from lambda_src.pdf_pipeline.start_batch.logic import BatchRequest, first_pages
from tests.pdf_pipeline.aws import STAGING, Pump

BATCH = "b-01JTESTBATCH0000000000000"


@pytest.fixture
def world():
    with aws.moto_world(LIST_PAGE_SIZE="3") as world:
        yield world


@contextlib.contextmanager
def counted_list_calls():
    """ListObjectsV2 calls made through the handlers' S3 client."""
    calls = []
    events = shared_aws.client("s3").meta.events

    def count(**_):
        calls.append(1)

    events.register("before-call.s3.ListObjectsV2", count)
    try:
        yield calls
    finally:
        events.unregister("before-call.s3.ListObjectsV2", count)


def start(world, prefix="in/"):
    for outgoing in first_pages(BATCH, BatchRequest(bucket=STAGING, prefixes=(prefix,))):
        world.sqs.send_message(QueueUrl=world.urls["list"], MessageBody=outgoing.body,
                               MessageGroupId=outgoing.group_id, MessageDeduplicationId=outgoing.deduplication_id)


def test_a_prefix_of_many_objects_is_listed_one_page_per_invocation(world):
    for index in range(25):
        world.put(STAGING, f"in/doc-{index:03d}.pdf", b"%PDF-1.7 " + bytes([index]))
    start(world)
    pages_per_invocation = []

    def handler(event, context):
        with counted_list_calls() as calls:
            answer = list_objects.handler(event, context)
        pages_per_invocation.append(len(calls))
        return answer

    Pump(world, {"list": handler}).drain()
    documents = [DocumentMessage.from_json(m["Body"]) for m in world.receive_all("ingest")]
    assert sorted(d.key for d in documents) == [f"in/doc-{index:03d}.pdf" for index in range(25)]
    assert pages_per_invocation == [1] * 9     # ceil(25 / 3) pages, each its own invocation
    assert len({d.document_id for d in documents}) == 25


def test_every_listed_document_gets_its_first_audit_record(world):
    world.put(STAGING, "in/a.pdf", b"%PDF-1.7 a")
    start(world)
    Pump(world, {"list": list_objects.handler}).drain()
    [document] = [DocumentMessage.from_json(m["Body"]) for m in world.receive_all("ingest")]
    [event] = [AuditEvent.from_json(m["Body"]) for m in world.receive_all("audit")]
    assert (event.stage, event.document_id, event.batch_id) == (Stage.LISTED, document.document_id, BATCH)
    assert event.detail["key"] == "in/a.pdf" and event.detail["size_bytes"] == len(b"%PDF-1.7 a")


def test_document_ids_derive_from_batch_bucket_key_and_etag(world):
    etag = world.put(STAGING, "in/a.pdf", b"%PDF-1.7 a")["ETag"].strip('"')
    start(world)
    Pump(world, {"list": list_objects.handler}).drain()
    [document] = [DocumentMessage.from_json(m["Body"]) for m in world.receive_all("ingest")]
    assert document.document_id == document_id(BATCH, STAGING, "in/a.pdf", etag)


def test_folder_markers_are_skipped_and_empty_objects_are_documents(world):
    world.put(STAGING, "in/sub/", b"")
    world.put(STAGING, "in/empty.pdf", b"")
    start(world)
    Pump(world, {"list": list_objects.handler}).drain()
    documents = [DocumentMessage.from_json(m["Body"]) for m in world.receive_all("ingest")]
    assert [(d.key, d.size_bytes) for d in documents] == [("in/empty.pdf", 0)]


def test_a_redelivered_page_yields_the_same_documents_and_no_second_next_page(world):
    for index in range(5):
        world.put(STAGING, f"in/{index}.pdf", b"%PDF-1.7")
    request = ListRequest(batch_id=BATCH, bucket=STAGING, prefix="in/")
    event = aws.sqs_event([request.to_json()], group_id="g")
    assert aws.failed_ids(list_objects.handler(event, aws.context())) == []
    assert aws.failed_ids(list_objects.handler(event, aws.context())) == []   # the same message again
    documents = [DocumentMessage.from_json(m["Body"]) for m in world.receive_all("ingest")]
    assert len(documents) == 6 and len({d.document_id for d in documents}) == 3
    [following] = [ListRequest.from_json(m["Body"]) for m in world.receive_all("list")]
    assert (following.page_number, following.prefix) == (2, "in/") and following.continuation_token


def test_a_prefix_with_nothing_under_it_ends_without_documents(world):
    start(world, prefix="nothing/")
    Pump(world, {"list": list_objects.handler}).drain()
    assert world.depth("ingest") == 0 and world.depth("list") == 0


def test_a_listing_request_that_is_not_the_contract_fails_alone(world):
    world.put(STAGING, "in/a.pdf", b"%PDF-1.7")
    good = ListRequest(batch_id=BATCH, bucket=STAGING, prefix="in/").to_json()
    event = aws.sqs_event(['{"kind": "list"}', good])
    event["Records"][0]["attributes"]["MessageGroupId"] = "bad"
    event["Records"][1]["attributes"]["MessageGroupId"] = "good"
    assert aws.failed_ids(list_objects.handler(event, aws.context())) == ["m-0"]
    assert world.depth("ingest") == 1


def test_a_failing_listing_fails_its_message_group_and_logs_its_batch(world):
    request = ListRequest(batch_id=BATCH, bucket=STAGING, prefix="in/").to_json()
    other = ListRequest(batch_id=BATCH, bucket=STAGING, prefix="other/").to_json()
    event = aws.sqs_event([request, request.replace('"in/"', '"in/x/"'), other])
    for record, group in zip(event["Records"], ("g1", "g1", "g2"), strict=True):
        record["attributes"]["MessageGroupId"] = group
    with aws.failing_calls(shared_aws.client("s3"), "s3.ListObjectsV2", times=1, code="AccessDenied", status=403), \
            aws.captured_logs(lambda_host.logger) as logs:
        assert aws.failed_ids(list_objects.handler(event, aws.context())) == ["m-0", "m-1"]   # g1 keeps its order
    [failure] = [line for line in aws.json_lines(logs.getvalue())
                 if line.get("message") == "message failed; SQS redelivers it"]
    assert failure["batch_id"] == BATCH and "document_id" not in failure   # a listing is about no document

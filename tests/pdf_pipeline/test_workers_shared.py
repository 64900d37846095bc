"""The shared edges: SQS batches and their retries, S3 event notifications, the S3 store."""
from __future__ import annotations

import json

import pytest

from tests.pdf_pipeline import aws  # first: it sets the environment the handlers read at import

# isort: split
from lambda_src.pdf_pipeline.messages import InvalidMessage
from lambda_src.pdf_pipeline.shared.queues import MAX_BATCH_BYTES, Outgoing, QueueSender, SendFailed, batches
from lambda_src.pdf_pipeline.shared.s3_events import objects_created
from lambda_src.pdf_pipeline.shared.store import ObjectMissing, ObjectTooLarge, S3Store
from tests.pdf_pipeline.aws import STAGING, FlakyBatches


class NoSleep:
    def __init__(self):
        self.slept = []

    def sleep(self, seconds):
        self.slept.append(seconds)


@pytest.fixture
def world():
    with aws.moto_world() as world:
        yield world


def test_messages_go_in_batches_of_ten():
    sizes = [len(batch) for batch in batches([Outgoing(str(index)) for index in range(23)])]
    assert sizes == [10, 10, 3]


def test_a_batch_never_exceeds_the_request_size_limit():
    body = "x" * (MAX_BATCH_BYTES // 3 + 1)   # three of them are one byte too many
    sizes = [len(batch) for batch in batches([Outgoing(body)] * 5)]
    assert sizes == [2, 2, 1]


def test_a_message_over_the_size_limit_fails_the_send_at_once():
    with pytest.raises(SendFailed, match="over SQS's"):
        list(batches([Outgoing("x" * (MAX_BATCH_BYTES + 1))]))


def test_entries_failed_on_the_service_side_are_sent_again(world):
    flaky = FlakyBatches(world.sqs, times=2)
    clock = NoSleep()
    QueueSender(flaky, clock=clock).send(world.urls["ingest"], [str(index) for index in range(10)])
    assert sorted(int(body) for body in map(json.loads, (m["Body"] for m in world.receive_all("ingest")))) == \
        list(range(10))
    assert flaky.calls == [10, 5, 3] and len(clock.slept) == 2


def test_entries_that_keep_failing_fail_the_send(world):
    with pytest.raises(SendFailed, match="still failed after 4 attempts"):
        QueueSender(FlakyBatches(world.sqs, times=10), clock=NoSleep()).send(world.urls["ingest"], ["1", "2"])


def test_an_entry_the_service_refuses_as_malformed_is_not_retried(world):
    flaky = FlakyBatches(world.sqs, times=10, sender_fault=True)
    with pytest.raises(SendFailed, match="refused 1 message"):
        QueueSender(flaky, clock=NoSleep()).send(world.urls["ingest"], ["1", "2"])
    assert flaky.calls == [2]


def _notification(key: str, *, name: str = "ObjectCreated:Put", version: str | None = "v1") -> str:
    obj = {"key": key, "size": 12, "eTag": "0123456789abcdef", "sequencer": "0A1B"}
    if version:
        obj["versionId"] = version
    return json.dumps({"Records": [{
        "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
        "eventTime": "2026-01-31T14:59:59.999Z", "eventName": name,
        "userIdentity": {"principalId": "AWS:EXAMPLE"}, "requestParameters": {"sourceIPAddress": "192.0.2.1"},
        "responseElements": {"x-amz-request-id": "R", "x-amz-id-2": "H"},
        "s3": {"s3SchemaVersion": "1.0", "configurationId": "auto", "bucket": {
            "name": STAGING, "ownerIdentity": {"principalId": "A"}, "arn": f"arn:aws:s3:::{STAGING}"},
            "object": obj}}]})


def test_s3_event_keys_are_url_decoded():
    [created] = objects_created(_notification("in/red+flower%2B%C3%A9t%C3%A9.pdf"))
    assert created.key == "in/red flower+été.pdf"
    assert (created.size, created.etag, created.version_id) == (12, "0123456789abcdef", "v1")


def test_the_s3_test_event_holds_no_objects():
    test_event = {"Service": "Amazon S3", "Event": "s3:TestEvent", "Time": "2026-01-31T14:00:00.000Z",
                  "Bucket": STAGING, "RequestId": "R", "HostId": "H"}
    assert objects_created(json.dumps(test_event)) == []


def test_events_other_than_object_created_are_skipped():
    assert objects_created(_notification("in/a.pdf", name="ObjectRemoved:Delete")) == []


@pytest.mark.parametrize("body", ["not json", "[]", '{"Records": "x"}', '{"Records": [{"eventSource": "aws:sqs"}]}',
                                  '{"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put"}]}'])
def test_a_body_that_is_not_an_s3_notification_is_invalid(body):
    with pytest.raises(InvalidMessage, match="S3 event"):
        objects_created(body)


def test_a_read_larger_than_its_limit_is_refused(world):
    world.put(STAGING, "big.pdf", b"x" * 101)
    with pytest.raises(ObjectTooLarge, match="more than the 100"):
        S3Store(world.s3).read(STAGING, "big.pdf", max_bytes=100)


def test_a_missing_object_is_object_missing(world):
    with pytest.raises(ObjectMissing, match="does not exist"):
        S3Store(world.s3).head(STAGING, "nowhere.pdf")


def test_a_version_can_be_pinned(world):
    first = world.put(STAGING, "a.pdf", b"first")["VersionId"]
    world.put(STAGING, "a.pdf", b"second")
    assert S3Store(world.s3).read(STAGING, "a.pdf", first, max_bytes=100) == b"first"

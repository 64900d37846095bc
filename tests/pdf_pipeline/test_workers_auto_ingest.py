"""Auto-ingest: S3 ObjectCreated events under the prefix -> the ingest queue, in the hour's batch."""
from __future__ import annotations

import json

import pytest

from tests.pdf_pipeline import aws  # first: it sets the environment the handlers read at import

# isort: split
from lambda_src.pdf_pipeline.auto_ingest import handler as auto_ingest
from lambda_src.pdf_pipeline.messages import AuditEvent, DocumentMessage, Stage, document_id
from tests.pdf_pipeline.aws import STAGING, Pump


@pytest.fixture
def world():
    with aws.moto_world() as world:
        queue_arn = world.sqs.get_queue_attributes(QueueUrl=world.urls["auto_ingest"],
                                                   AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        world.s3.put_bucket_notification_configuration(Bucket=STAGING, NotificationConfiguration={
            "QueueConfigurations": [{"QueueArn": queue_arn, "Events": ["s3:ObjectCreated:*"],
                                     "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "auto/"}]}}}]})
        yield world


def event_body(key: str, *, time: str, version: str | None = "3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY") -> str:
    obj = {"key": key, "size": 2048, "eTag": "d41d8cd98f00b204e9800998ecf8427e", "sequencer": "0055AED6DCD90281E5"}
    if version:
        obj["versionId"] = version
    return json.dumps({"Records": [{"eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
                                    "eventTime": time, "eventName": "ObjectCreated:Put",
                                    "s3": {"s3SchemaVersion": "1.0", "bucket": {"name": STAGING}, "object": obj}}]})


def test_an_uploaded_document_is_ingested_with_its_first_audit_record(world):
    world.put(STAGING, "auto/red flower.pdf", b"%PDF-1.7 upload")
    Pump(world, {"auto_ingest": auto_ingest.handler}).drain()
    [document] = [DocumentMessage.from_json(m["Body"]) for m in world.receive_all("ingest")]
    assert (document.bucket, document.key, document.size_bytes) == (STAGING, "auto/red flower.pdf", 15)
    assert document.batch_id.startswith("b-auto-") and len(document.batch_id) == len("b-auto-2026013114")
    stages = sorted(AuditEvent.from_json(m["Body"]).stage.value for m in world.receive_all("audit"))
    assert stages == ["batch", "listed"]


def test_uploads_outside_the_prefix_are_not_ingested(world):
    world.put(STAGING, "manual/a.pdf", b"%PDF-1.7")
    Pump(world, {"auto_ingest": auto_ingest.handler}).drain()
    assert world.depth("ingest") == 0


def test_a_document_joins_the_batch_of_its_utc_hour(world):
    event = aws.sqs_event([event_body("auto/a.pdf", time="2026-01-31T14:59:59.999Z"),
                           event_body("auto/b.pdf", time="2026-01-31T15:00:00.000Z")])
    assert aws.failed_ids(auto_ingest.handler(event, aws.context())) == []
    batches = sorted(DocumentMessage.from_json(m["Body"]).batch_id for m in world.receive_all("ingest"))
    assert batches == ["b-auto-2026013114", "b-auto-2026013115"]


def test_the_document_id_comes_from_the_version_so_a_redelivered_event_is_the_same_document(world):
    body = event_body("auto/a.pdf", time="2026-01-31T14:00:00.000Z")
    auto_ingest.handler(aws.sqs_event([body, body]), aws.context())
    documents = [DocumentMessage.from_json(m["Body"]) for m in world.receive_all("ingest")]
    expected = document_id("b-auto-2026013114", STAGING, "auto/a.pdf", "3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY")
    assert {d.document_id for d in documents} == {expected}
    assert documents[0].version_id == "3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY"


def test_the_hours_batch_is_recorded_as_an_automatic_one(world):
    auto_ingest.handler(aws.sqs_event([event_body("auto/a.pdf", time="2026-01-31T14:00:00.000Z")]), aws.context())
    [batch] = [e for e in map(AuditEvent.from_json, (m["Body"] for m in world.receive_all("audit")))
               if e.stage is Stage.BATCH]
    assert (batch.batch_id, batch.detail["trigger"]) == ("b-auto-2026013114", "auto")


def test_the_s3_test_event_and_folder_markers_ingest_nothing(world):
    test_event = json.dumps({"Service": "Amazon S3", "Event": "s3:TestEvent", "Time": "2026-01-31T14:00:00.000Z",
                             "Bucket": STAGING, "RequestId": "R", "HostId": "H"})
    event = aws.sqs_event([test_event, event_body("auto/folder/", time="2026-01-31T14:00:00.000Z")])
    assert aws.failed_ids(auto_ingest.handler(event, aws.context())) == []
    assert world.depth("ingest") == 0


def test_a_message_that_is_not_an_s3_event_fails_alone(world):
    event = aws.sqs_event(["{}", event_body("auto/a.pdf", time="2026-01-31T14:00:00.000Z")])
    assert aws.failed_ids(auto_ingest.handler(event, aws.context())) == ["m-0"]
    assert world.depth("ingest") == 1

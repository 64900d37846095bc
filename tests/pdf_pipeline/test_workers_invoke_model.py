"""invoke_model: page image events -> a SigV4-signed POST to the inference method -> the audit trail."""
from __future__ import annotations

import json
import os
import time

import boto3
import pytest
from botocore.credentials import Credentials

from tests.pdf_pipeline import aws  # first: it sets the environment the handlers read at import

# isort: split
from lambda_src.pdf_pipeline.invoke_model import handler as invoke_model
from lambda_src.pdf_pipeline.messages import AuditEvent, Keys, Stage, Status
from lambda_src.pdf_pipeline.shared import lambda_host
from tests.pdf_pipeline.aws import IMAGES, LocalApi, Pump

BATCH, DOCUMENT = "b-01JTESTBATCH0000000000000", "d-0123456789abcdef0123456789abcdef"
KEY = Keys.page_png(BATCH, DOCUMENT, 7)
ANSWER = {"features": {"signature": True, "stamp": False}, "model": "v3"}


def model(*statuses: int, answer=ANSWER, delay: float = 0.0):
    """A stand-in for the API method: the given statuses in turn, then 200 with ``answer``."""
    queue = list(statuses)

    def respond(request):
        time.sleep(delay)
        status = queue.pop(0) if queue else 200
        return status, (answer if status == 200 else {"message": "Too Many Requests" if status == 429 else "error"})

    return respond


@pytest.fixture
def world():
    with aws.moto_world() as world:
        yield world


def with_api(world, respond):
    api = LocalApi(respond)
    os.environ["INFERENCE_URL"] = f"{api.url}/prod/inference"   # moto_world restores the environment
    return api


def s3_event(key: str = KEY) -> str:
    return json.dumps({"Records": [{"eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
                                    "eventTime": "2026-01-31T14:00:00.000Z", "eventName": "ObjectCreated:Put",
                                    "s3": {"bucket": {"name": IMAGES},
                                           "object": {"key": key, "size": 100, "eTag": "e"}}}]})


def invoke(*bodies: str, remaining_ms: int = 30_000):
    return invoke_model.handler(aws.sqs_event(list(bodies)), aws.context(remaining_ms))


def audit_events(world):
    return [AuditEvent.from_json(m["Body"]) for m in world.receive_all("audit")]


def test_the_model_is_asked_about_the_image_by_bucket_and_key(world):
    with with_api(world, model()) as api:
        assert aws.failed_ids(invoke(s3_event())) == []
    [request] = api.requests
    assert (request.method, request.path) == ("POST", "/prod/inference")
    assert json.loads(request.body) == {"bucket": IMAGES, "key": KEY}


def test_the_request_is_signed_with_sigv4_for_execute_api(world):
    with with_api(world, model()) as api:
        invoke(s3_event())
    [request] = api.requests
    assert signature_ok(api, request)
    assert "/us-east-1/execute-api/aws4_request" in request.headers["Authorization"]


def signature_ok(api, request):
    """Verified with the keys of the function's role (in moto: the fake keys mock_aws sets)."""
    caller = boto3.Session().get_credentials().get_frozen_credentials()
    return aws.signature_is_valid(request.method, f"{api.url}{request.path}", request.headers, request.body,
                                  Credentials(caller.access_key, caller.secret_key, caller.token))


def test_a_tampered_body_does_not_verify(world):
    with with_api(world, model()) as api:
        invoke(s3_event())
    [request] = api.requests
    request.body = request.body.replace(b"000007", b"000008")
    assert not signature_ok(api, request)


def test_the_answer_is_recorded_as_the_pages_inferred_event(world):
    with with_api(world, model()):
        invoke(s3_event())
    [event] = audit_events(world)
    assert (event.stage, event.batch_id, event.document_id, event.unit) == (Stage.INFERRED, BATCH, DOCUMENT,
                                                                             "page:000007")
    assert event.detail == ANSWER and event.component == "lambda:invoke_model"


def test_throttling_and_server_errors_are_retried_within_the_invocation(world):
    with with_api(world, model(429, 500, 503)) as api:
        assert aws.failed_ids(invoke(s3_event())) == []
    assert len(api.requests) == 4 and [e.stage for e in audit_events(world)] == [Stage.INFERRED]


def test_an_endpoint_that_keeps_throttling_fails_the_message_before_the_deadline(world):
    with with_api(world, model(*[429] * 1000)) as api:
        started = time.monotonic()
        assert aws.failed_ids(invoke(s3_event(), remaining_ms=6_000)) == ["m-0"]
        elapsed = time.monotonic() - started
    assert elapsed < 6.0 - invoke_model.DEADLINE_MARGIN + 0.5 and len(api.requests) >= 2


def test_a_failed_attempt_is_reported_with_its_reason_and_nothing_is_inferred(world):
    with with_api(world, model(*[503] * 1000)):
        invoke(s3_event(), remaining_ms=4_500)
    [event] = audit_events(world)
    assert (event.stage, event.status, event.unit) == (Stage.INFERRED, Status.FAILED, "page:000007")
    assert event.detail["reason"].startswith("ModelUnavailable: no answer before the deadline")
    assert event.detail["attempt"] == 1


def test_a_slow_endpoint_is_cut_off_by_the_deadline(world):
    with with_api(world, model(delay=5.0)):
        started = time.monotonic()
        assert aws.failed_ids(invoke(s3_event(), remaining_ms=5_000)) == ["m-0"]
        assert time.monotonic() - started < 5.0


def test_a_refusal_is_not_retried_inside_the_invocation(world):
    with with_api(world, model(403)) as api:
        assert aws.failed_ids(invoke(s3_event())) == ["m-0"]
    assert len(api.requests) == 1


def test_an_answer_that_is_not_json_fails_the_message(world):
    with with_api(world, model(answer=b"<html>")):
        assert aws.failed_ids(invoke(s3_event())) == ["m-0"]


def test_the_s3_test_event_and_foreign_keys_ask_nothing(world):
    test_event = json.dumps({"Service": "Amazon S3", "Event": "s3:TestEvent", "Time": "2026-01-31T14:00:00.000Z",
                             "Bucket": IMAGES, "RequestId": "R", "HostId": "H"})
    with with_api(world, model()) as api:
        assert aws.failed_ids(invoke(test_event, s3_event("uploads/someone.png"))) == []
    assert api.requests == [] and audit_events(world) == []


def test_a_real_s3_notification_of_a_new_image_reaches_the_model(world):
    arn = world.sqs.get_queue_attributes(QueueUrl=world.urls["converted_image"],
                                         AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    world.s3.put_bucket_notification_configuration(Bucket=IMAGES, NotificationConfiguration={
        "QueueConfigurations": [{"QueueArn": arn, "Events": ["s3:ObjectCreated:*"]}]})
    world.put(IMAGES, KEY, b"\x89PNG")
    with with_api(world, model()) as api:
        Pump(world, {"converted_image": invoke_model.handler}).drain()
    assert [json.loads(r.body)["key"] for r in api.requests] == [KEY]


def test_the_failure_log_record_carries_the_batch_and_document(world):
    with with_api(world, model(403)), aws.captured_logs(lambda_host.logger) as logs:
        invoke(s3_event())
    [failure] = [line for line in aws.json_lines(logs.getvalue())
                 if line.get("message") == "message failed; SQS redelivers it"]
    assert (failure["batch_id"], failure["document_id"], failure["level"]) == (BATCH, DOCUMENT, "ERROR")


def test_failures_and_pages_are_counted_per_stage(world, capfd):
    with with_api(world, model(403)):
        invoke(s3_event(), s3_event(Keys.page_png(BATCH, DOCUMENT, 8)))
    [emf] = [line for line in aws.json_lines(capfd.readouterr().out) if "_aws" in line]
    assert (emf["stage"], emf["Failures"], emf["PagesProcessed"]) == ("inferred", [1.0], [1.0])

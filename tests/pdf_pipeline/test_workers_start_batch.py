"""POST /batches: validation, the batch's messages, the 202 answer."""
from __future__ import annotations

import base64
import json

import pytest

from tests.pdf_pipeline import aws  # first: it sets the environment the handlers read at import

# isort: split
from lambda_src.pdf_pipeline.messages import AuditEvent, ListRequest, Stage
from lambda_src.pdf_pipeline.start_batch import handler as start_batch
from lambda_src.pdf_pipeline.start_batch.logic import MAX_BODY_BYTES, MAX_PREFIXES
from tests.pdf_pipeline.aws import PARTNER, STAGING


@pytest.fixture
def world():
    with aws.moto_world() as world:
        yield world


def post(body, *, raw: str | None = None, base64_body: bool = False, user="arn:aws:iam::123456789012:user/ops"):
    text = raw if raw is not None else json.dumps(body)
    if base64_body:
        text = base64.b64encode(text.encode()).decode()
    event = {"resource": "/batches", "path": "/batches", "httpMethod": "POST", "headers": {},
             "requestContext": {"requestId": "req-1", "identity": {"userArn": user}},
             "body": text, "isBase64Encoded": base64_body}
    response = start_batch.handler(event, aws.context())
    return response["statusCode"], json.loads(response["body"])


def test_a_batch_is_accepted_with_its_id_bucket_and_prefixes(world):
    status, body = post({"prefixes": ["invoices/2026/", "letters/"]})
    assert status == 202
    assert body["batchId"].startswith("b-") and len(body["batchId"]) == 28
    assert body["bucket"] == STAGING and body["prefixes"] == ["invoices/2026/", "letters/"]


def test_each_prefix_becomes_one_listing_request_in_its_own_message_group(world):
    _, body = post({"prefixes": ["a/", "b/"]})
    messages = world.receive_all("list")
    requests = sorted((ListRequest.from_json(m["Body"]) for m in messages), key=lambda r: r.prefix)
    assert [(r.batch_id, r.bucket, r.prefix, r.continuation_token, r.page_number) for r in requests] == [
        (body["batchId"], STAGING, "a/", None, 1), (body["batchId"], STAGING, "b/", None, 1)]
    groups = {m["Attributes"]["MessageGroupId"] for m in messages}
    assert len(groups) == 2 and all(group.startswith(body["batchId"]) for group in groups)


def test_the_batch_is_recorded_in_the_audit_trail_with_who_started_it(world):
    _, body = post({"prefixes": ["a/"], "bucket": PARTNER})
    [event] = [AuditEvent.from_json(m["Body"]) for m in world.receive_all("audit")]
    assert (event.batch_id, event.stage, event.component) == (body["batchId"], Stage.BATCH, "lambda:start_batch")
    assert event.detail == {"bucket": PARTNER, "prefixes": ["a/"], "trigger": "api",
                            "requested_by": "arn:aws:iam::123456789012:user/ops"}


def test_an_allowed_source_bucket_can_be_listed(world):
    status, body = post({"prefixes": ["in/"], "bucket": PARTNER})
    assert (status, body["bucket"]) == (202, PARTNER)


def test_a_bucket_outside_the_allowlist_is_refused_by_name(world):
    status, body = post({"prefixes": ["in/"], "bucket": "someone-elses-bucket"})
    assert status == 400 and "'someone-elses-bucket' is not allowed" in body["message"]
    assert world.depth("list") == 0 and world.depth("audit") == 0


def test_a_base64_body_is_decoded(world):
    status, _ = post({"prefixes": ["a/"]}, base64_body=True)
    assert status == 202


@pytest.mark.parametrize("raw, message", [
    (None, "request body is required"),
    ("", "request body is required"),
    ("not json", "must be valid JSON"),
    ("[\"a/\"]", "must be a JSON object"),
    ("\"a/\"", "must be a JSON object"),
    ('{"prefixes": ["a/"], "prefixes": ["b/"]}', "repeats the key 'prefixes'"),
    ('{"prefixes": ["a/"], "n": NaN}', "NaN and Infinity are not JSON numbers"),
    ('{"prefixes": ["a/"], "extra": 1}', "unknown field"),
    ('{"prefixes": []}', "non-empty list"),
    ('{"prefixes": "a/"}', "non-empty list"),
    ('{"prefixes": [""]}', "prefixes[0] must be a non-empty string"),
    ('{"prefixes": [7]}', "prefixes[0] must be a non-empty string"),
    ('{"prefixes": ["a/", "a/"]}', "must not repeat"),
    ('{"prefixes": ["a/", "a/b/"]}', "'a/b/' is inside prefix 'a/'"),
    ('{"prefixes": ["\\ud800"]}', "unpaired UTF-16 surrogate"),
    ('{"prefixes": ["a\\u0000b"]}', "control character"),
    ('{"prefixes": ["a/"], "bucket": ""}', "bucket must be a non-empty string"),
    ('{"prefixes": ["a/"], "bucket": ["x"]}', "bucket must be a non-empty string"),
    ('{"prefixes": [' + "1" * 5000 + ']}', "at most 40 characters"),
    ("[" * 100_000 + "]" * 100_000, "nests deeper than 4 levels"),
])
def test_bad_bodies_are_a_400_with_a_message(world, raw, message):
    event_body = raw
    status, body = post(None, raw=event_body) if raw is not None else _post_without_body()
    assert status == 400 and message in body["message"]
    assert world.depth("list") == 0


def _post_without_body():
    event = {"httpMethod": "POST", "requestContext": {}, "body": None, "isBase64Encoded": False}
    response = start_batch.handler(event, aws.context())
    return response["statusCode"], json.loads(response["body"])


def test_a_body_over_the_size_limit_is_refused_before_parsing(world):
    status, body = post(None, raw='{"prefixes": ["' + "a" * MAX_BODY_BYTES + '"]}')
    assert status == 400 and "at most" in body["message"]


def test_more_than_the_allowed_number_of_prefixes_is_refused(world):
    status, body = post({"prefixes": [f"p{index}/" for index in range(MAX_PREFIXES + 1)]})
    assert status == 400 and f"at most {MAX_PREFIXES} prefixes" in body["message"]


def test_a_prefix_is_measured_in_utf8_bytes(world):
    accepted, _ = post({"prefixes": ["é" * 512]})          # 1024 bytes
    refused, body = post({"prefixes": ["é" * 512 + "x"]})   # 1025 bytes
    assert (accepted, refused) == (202, 400) and "1025 bytes" in body["message"]


def test_invalid_base64_is_a_400(world):
    event = {"httpMethod": "POST", "requestContext": {}, "body": "***", "isBase64Encoded": True}
    response = start_batch.handler(event, aws.context())
    assert response["statusCode"] == 400 and "base64" in json.loads(response["body"])["message"]

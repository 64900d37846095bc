"""Converted-image queue consumer: S3 events of new page images -> the model -> the audit trail.

Each message is an S3 event notification (S3 -> SQS); the test event S3 sends when the
notification is configured is skipped, and so is any object that is not a page image key.
The inference method (REST API, IAM auth) is called with a SigV4-signed POST.

Environment: INFERENCE_URL, AUDIT_QUEUE_URL, AWS_REGION.
"""
from __future__ import annotations

import functools
import random
from typing import Any

import boto3
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from ..messages import InvalidMessage, Stage
from ..settings import AUDIT_QUEUE_URL, AWS_REGION, INFERENCE_URL, Settings
from ..shared import aws
from ..shared.audit import page_unit
from ..shared.clock import SYSTEM_CLOCK
from ..shared.lambda_host import count, logger, sqs_consumer, trail
from ..shared.s3_events import objects_created
from ..shared.signed_http import signed_request
from ..shared.work import Subject
from .logic import PageImage, ask_model, inferred_event

# Time kept back from the invocation's remaining time: sending the audit event and answering
# the batch must still fit after the last attempt.
DEADLINE_MARGIN = 3.0
DEFAULT_REMAINING_MS = 60_000

_rng = random.Random()


@functools.cache
def _credentials() -> Any:
    return boto3.Session().get_credentials()


def infer_record(record: SQSRecord, lambda_context: Any) -> None:
    settings = Settings.from_environ()
    url, region = settings.text(INFERENCE_URL), settings.text(AWS_REGION)
    remaining_ms = lambda_context.get_remaining_time_in_millis() if lambda_context else DEFAULT_REMAINING_MS
    deadline = SYSTEM_CLOCK.monotonic() + remaining_ms / 1000 - DEADLINE_MARGIN

    def post(body: dict[str, Any], timeout: float):
        return signed_request("POST", url, credentials=_credentials(), region=region, timeout=timeout, body=body)

    events = []
    created_objects = objects_created(record.body)
    if not created_objects:
        count("IgnoredMessages")   # S3's test event, or events other than ObjectCreated
    for created in created_objects:
        try:
            image = PageImage.from_key(created.bucket, created.key)
        except InvalidMessage:
            count("IgnoredObjects")
            logger.warning("not a page image; nothing to infer", extra={"key": created.key[:300]})
            continue
        # The log context is the message's first image (sqs_consumer's subject): one image per
        # message is what S3 sends.
        started = SYSTEM_CLOCK.monotonic()
        answer = ask_model(image, post=post, deadline=deadline, clock=SYSTEM_CLOCK, rng=_rng)
        events.append(inferred_event(trail("invoke_model"), image, answer, started=started))
        count("PagesProcessed")
        logger.info("page inferred", extra={"page": image.page})
    if events:
        aws.sender().send(settings.text(AUDIT_QUEUE_URL), [event.to_json() for event in events])


def _subject(body: str) -> Subject | None:
    """The first page image of a message, for the report of a failed attempt."""
    try:
        for created in objects_created(body):
            image = PageImage.from_key(created.bucket, created.key)
            return image.batch_id, image.document_id, page_unit(image.page)
    except InvalidMessage:
        pass
    return None


handler = sqs_consumer(infer_record, stage=Stage.INFERRED, function="invoke_model", subject=_subject)

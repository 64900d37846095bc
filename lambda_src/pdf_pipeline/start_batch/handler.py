"""POST /batches (REST API, IAM auth, proxy integration): start a batch.

Answers 202 ``{"batchId", "bucket", "prefixes"}`` as soon as the batch's audit record and
one listing request per prefix are on their queues; the listing itself runs page by page
in list_objects. Bad input is a 400 with a message.

Environment: STAGING_BUCKET, ALLOWED_SOURCE_BUCKETS, LIST_QUEUE_URL, AUDIT_QUEUE_URL.
"""
from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.logging import correlation_paths

from ..messages import new_batch_id
from ..settings import ALLOWED_SOURCE_BUCKETS, AUDIT_QUEUE_URL, LIST_QUEUE_URL, STAGING_BUCKET, Settings
from ..shared import aws
from ..shared.lambda_host import correlated, count, logger, metrics, tracer, trail
from .logic import BadRequest, accepted_body, batch_event, decode_body, first_pages, parse_request

_HEADERS = {"Content-Type": "application/json", "Cache-Control": "no-store"}


def _response(status: int, body: dict[str, Any]) -> dict[str, Any]:
    return {"statusCode": status, "headers": _HEADERS, "body": json.dumps(body)}


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    metrics.add_dimension(name="stage", value="batch")
    settings = Settings.from_environ()
    staging = settings.text(STAGING_BUCKET)
    try:
        request = parse_request(decode_body(event),
                                staging_bucket=staging, allowed_buckets=settings.words(ALLOWED_SOURCE_BUCKETS))
    except BadRequest as error:
        count("RejectedRequests")
        logger.info("batch request refused", extra={"reason": str(error)})
        return _response(400, {"message": str(error)})
    batch_id = new_batch_id()
    identity = (event.get("requestContext") or {}).get("identity") or {}
    with correlated(batch_id):
        sender = aws.sender()
        # The batch's record first, so the batch exists before any of its documents is reported.
        created = batch_event(trail("start_batch"), batch_id, request, requested_by=identity.get("userArn"))
        sender.send(settings.text(AUDIT_QUEUE_URL), [created.to_json()])
        sender.send(settings.text(LIST_QUEUE_URL), first_pages(batch_id, request))
        count("BatchesStarted")
        logger.info("batch started", extra={"bucket": request.bucket, "prefixes": len(request.prefixes)})
    return _response(202, accepted_body(batch_id, request))
